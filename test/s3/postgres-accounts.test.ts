import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { client, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { PostgresMetaStore } from '../../src/meta/postgres/store.js';
import { createScratchDatabase, postgresUnavailable, type ScratchDatabase } from '../support/postgres-scratch.js';

/**
 * `tessera admin` in PostgreSQL mode, with two gateways over one database and
 * one data directory: a key the CLI creates signs requests at both gateways,
 * and once the CLI revokes it both refuse it with their next request. The
 * gateways cache the accounts generation for a minute here, so only the
 * store's change notifications can make that happen at once.
 */
const unavailable = await postgresUnavailable();
const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');

describe('tessera admin over PostgreSQL, two gateways', { skip: unavailable }, () => {
  let db: ScratchDatabase;
  let dataDir: string;
  const gateways: Array<{ server: RunningServer; close: () => Promise<void> }> = [];
  const clients: S3Client[] = [];

  async function admin(args: string[], env: Record<string, string> = {}): Promise<any> {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'admin', ...args, '--data-dir', dataDir], {
      cwd: ROOT, env: { ...process.env, ...env },
    });
    return JSON.parse(stdout);
  }
  const inPostgres = ['--meta', 'postgres', '--postgres-url'];
  const as = (server: RunningServer, key: { accessKeyId: string; secretAccessKey: string }) => {
    const c = client(server, { credentials: key, maxAttempts: 1 });
    clients.push(c);
    return c;
  };

  before(async () => {
    db = await createScratchDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-pg-admin-'));
    for (let i = 0; i < 2; i++) {
      const meta = await PostgresMetaStore.open({ connectionString: db.url, accountsMaxAgeMs: 60_000 });
      gateways.push(await liveServer({ meta, dataDir, logLevel: 'error' }));
      await meta.accountsGeneration();
    }
    // Both gateways listen for changes before the first signed request, so that request fills their caches.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      for (let i = 0; i < 500; i++) {
        const { rows } = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN tessera_accounts'`);
        if (rows[0].n === 2) break;
        await new Promise((ok) => setTimeout(ok, 20));
      }
    } finally {
      await c.end();
    }
  });
  after(async () => {
    for (const c of clients) c.destroy();
    for (const g of gateways) await g.close();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('tessera admin --meta postgres: a key it creates works at both gateways at once; revoked, both refuse it at once', async () => {
    const added = await admin(['account', 'add', '--display-name', 'pg-cli', '--with-key', ...inPostgres, db.url]);
    for (const { server } of gateways) {
      const r = await as(server, added.key).send(new ListBucketsCommand({}));
      assert.equal(r.Owner!.ID, added.canonicalId);
    }
    assert.deepEqual(await admin(['key', 'revoke', added.key.accessKeyId, ...inPostgres, db.url]), { revoked: added.key.accessKeyId });
    for (const { server } of gateways) {
      const refused = await s3Error(() => as(server, added.key).send(new ListBucketsCommand({})));
      assert.equal(refused.status, 403);
      assert.equal(refused.name, 'InvalidAccessKeyId');
    }
  });

  it('tessera admin takes the store from TESSERA_META and TESSERA_POSTGRES_URL', async () => {
    const added = await admin(['account', 'add', '--display-name', 'pg-env'], { TESSERA_META: 'postgres', TESSERA_POSTGRES_URL: db.url });
    const listed = await admin(['account', 'list'], { TESSERA_META: 'postgres', TESSERA_POSTGRES_URL: db.url });
    assert.ok(listed.some((a: { accountId: string }) => a.accountId === added.accountId));
    assert.ok(await gateways[0].server.deps.meta.loadAccounts().then((s) => s.accounts.some((a) => a.accountId === added.accountId)));
  });
});
