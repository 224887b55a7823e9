import { S3Client } from '@aws-sdk/client-s3';
import { startServer, type RunningServer, type StartOptions } from '../src/index.js';
import { createScratchDatabase } from './support/postgres-scratch.js';

/**
 * The metadata mode test servers run in: `TESSERA_TEST_META=postgres`
 * (`npm run test:postgres`) puts every server of the suite on PostgreSQL,
 * at `TESSERA_TEST_POSTGRES_URL` (default the local cluster); unset, SQLite
 * in the data directory.
 */
export const TEST_META: 'sqlite' | 'postgres' = (() => {
  const mode = process.env.TESSERA_TEST_META || 'sqlite';
  if (mode !== 'sqlite' && mode !== 'postgres') throw new Error(`TESSERA_TEST_META: expected sqlite or postgres, got ${mode}`);
  return mode;
})();

/**
 * The metadata of one test deployment, for servers that must see each
 * other's data: a restart on the same data directory, a child `tessera
 * serve`, `tessera admin`. In PostgreSQL mode a scratch database that
 * outlives each server and is dropped by `drop()`; in SQLite mode the data
 * directory holds it all and there is nothing to name or drop.
 */
export interface TestMeta {
  /** Start options naming the store: spread them into startServer / liveServer. */
  options: Pick<StartOptions, 'meta' | 'postgresUrl'>;
  /** The same as `tessera serve` / `tessera admin` flags. */
  args: string[];
  drop(): Promise<void>;
}

export async function testMeta(): Promise<TestMeta> {
  if (TEST_META === 'sqlite') return { options: {}, args: [], drop: async () => undefined };
  const db = await createScratchDatabase();
  return { options: { meta: 'postgres', postgresUrl: db.url }, args: ['--meta', 'postgres', '--postgres-url', db.url], drop: () => db.drop() };
}

/**
 * startServer in the suite's metadata mode. Unless `opts` name a store, a
 * PostgreSQL-mode server gets a fresh scratch database of its own, created
 * before it starts and dropped by its close() (or when it fails to start).
 */
export async function startTestServer(opts: StartOptions = {}): Promise<RunningServer> {
  const named = opts.meta !== undefined || opts.postgresUrl !== undefined;
  const meta = named || TEST_META === 'sqlite' ? undefined : await testMeta();
  let server: RunningServer;
  try {
    server = await startServer({ ...opts, ...meta?.options });
  } catch (e) {
    await meta?.drop();
    throw e;
  }
  if (!meta) return server;
  return {
    ...server,
    close: async () => {
      try {
        await server.close();
      } finally {
        await meta.drop();
      }
    },
  };
}

/** A live server on a random port with a temporary data directory, and an SDK client in its default configuration. */
export async function liveServer(opts: StartOptions = {}): Promise<{ server: RunningServer; s3: S3Client; close: () => Promise<void> }> {
  const server = await startTestServer({ port: 0, jobIntervalMs: 0, ...opts });
  const s3 = client(server);
  return {
    server,
    s3,
    close: async () => {
      s3.destroy();
      await server.close();
    },
  };
}

export function client(server: RunningServer, extra: Record<string, unknown> = {}): S3Client {
  return new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    ...extra,
  });
}

let counter = 0;
/** A fresh, valid bucket name. */
export function bucketName(tag = 'b'): string {
  return `${tag}-${process.pid}-${Date.now().toString(36)}-${counter++}`.toLowerCase();
}

/** Runs fn and returns the S3 error it throws (fails if it does not throw). */
export async function s3Error(fn: () => Promise<unknown>): Promise<{ name: string; status: number; message: string; raw: any }> {
  try {
    await fn();
  } catch (e: any) {
    return { name: e.name ?? e.Code, status: e.$metadata?.httpStatusCode, message: e.message, raw: e };
  }
  throw new Error('expected an S3 error, the call succeeded');
}
