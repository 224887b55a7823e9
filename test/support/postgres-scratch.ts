import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { MetaStore } from '../../src/meta/types.js';
import { PostgresMetaStore } from '../../src/meta/postgres/store.js';

/**
 * Throwaway databases for test runs, so that parallel runs (and parallel test
 * files) never share a schema: each gets `tessera_test_<random>` on the server
 * of `TESSERA_TEST_POSTGRES_URL` (default: the local cluster, user postgres),
 * created from template0 and dropped, connections and all, by `drop()`.
 * Names carry their creation time (`tessera_test_<base36 ms>_<random>`), so
 * a database that a killed run left behind is dropped by a later run once it
 * is a day old.
 */
export const TEST_POSTGRES_URL = process.env.TESSERA_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function withAdmin<T>(baseUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

const LEFT_BEHIND_MS = 24 * 3600 * 1000;

/** Drops scratch databases of runs that died a day ago or more (best effort: a failure leaves them for the next run). */
async function dropLeftBehind(c: pg.Client): Promise<void> {
  const { rows } = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE 'tessera\\_test\\_%\\_%'`);
  for (const { datname } of rows as Array<{ datname: string }>) {
    const born = parseInt(/^tessera_test_([0-9a-z]+)_[0-9a-f]+$/.exec(datname)?.[1] ?? '', 36);
    if (born < Date.now() - LEFT_BEHIND_MS) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
  }
}

export async function createScratchDatabase(baseUrl = TEST_POSTGRES_URL): Promise<ScratchDatabase> {
  const name = `tessera_test_${Date.now().toString(36)}_${randomBytes(5).toString('hex')}`;
  await withAdmin(baseUrl, async (c) => {
    await dropLeftBehind(c).catch(() => undefined);
    await c.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`);
  });
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => withAdmin(baseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * Why PostgreSQL tests cannot run here, or undefined when they can. A
 * developer without PostgreSQL gets the reason as a skip message; under CI
 * (`CI` set) an unreachable database is an error, never a silent skip.
 */
export async function postgresUnavailable(baseUrl = TEST_POSTGRES_URL): Promise<string | undefined> {
  try {
    await withAdmin(baseUrl, (c) => c.query('SELECT 1'));
    return undefined;
  } catch (e) {
    const shown = new URL(baseUrl);
    shown.password = shown.password ? '***' : '';
    const reason = `PostgreSQL unreachable at ${shown} (${(e as Error).message}); start it or set TESSERA_TEST_POSTGRES_URL`;
    if (process.env.CI) throw new Error(`${reason}. CI requires PostgreSQL.`);
    return reason;
  }
}

/**
 * The PostgreSQL entry of the MetaStore contract suite (test/contract/meta.test.ts):
 * each suite run opens a store on a fresh database, reopens it on the same
 * database, and drops it afterwards. Empty, with the reason printed, when
 * PostgreSQL is unreachable outside CI.
 */
export async function contractFactories(): Promise<Array<{
  name: string;
  open(): Promise<{ store: MetaStore; reopen: () => Promise<MetaStore>; cleanup(): Promise<void> }>;
}>> {
  const reason = await postgresUnavailable();
  if (reason) {
    process.stdout.write(`# PostgreSQL contract suite skipped: ${reason}\n`);
    return [];
  }
  return [{
    name: 'postgres',
    async open() {
      const db = await createScratchDatabase();
      let store: MetaStore = await PostgresMetaStore.open({ connectionString: db.url });
      return {
        store,
        reopen: async () => {
          await store.close();
          store = await PostgresMetaStore.open({ connectionString: db.url });
          return store;
        },
        cleanup: async () => {
          await store.close().catch(() => undefined);
          await db.drop();
        },
      };
    },
  }];
}
