import { join } from 'node:path';
import type { Logger } from 'pino';
import { FsBlobStore } from './blob/fs.js';
import type { BlobStore } from './blob/types.js';
import type { Config } from './config.js';
import { PostgresMetaStore } from './meta/postgres/store.js';
import { lockDataDir, type DataDirLock } from './meta/sqlite/lock.js';
import { SqliteMetaStore } from './meta/sqlite/store.js';
import type { MetaStore } from './meta/types.js';

/**
 * The one place that picks implementations: which MetaStore and which
 * BlobStore a configuration means, and what each needs of the data
 * directory. `startServer` and `tessera admin` both open their stores here;
 * nothing else under src/ names a concrete store (an S3 blob backend is to be
 * chosen here too).
 *
 * The metadata store is `config.meta`: 'sqlite' is `<dataDir>/meta.sqlite`,
 * 'postgres' the database at `config.postgresUrl`. Blobs are files under
 * `<dataDir>/blobs`. `config.dataDir` must already be absolute and exist.
 *
 * A server takes `lockForServer` before it opens anything in the data
 * directory and releases it after closing the stores; `tessera admin` does
 * not take it, so it can run beside a server.
 */

/** The data directory lock a server must hold for the configured metadata store (SQLite mode: meta/sqlite/lock.ts), or none. */
export function lockForServer(config: Pick<Config, 'meta' | 'dataDir'>): DataDirLock | undefined {
  return config.meta === 'sqlite' ? lockDataDir(config.dataDir) : undefined;
}

export interface MetaStoreOptions {
  /** Told when the PostgreSQL pool loses a connection (it opens a new one); unset, the loss goes unlogged. */
  log?: Logger;
  /** At most this many PostgreSQL connections (a short-lived tool needs few); unset, the pool's default. */
  poolMax?: number;
}

/** Opens the configured metadata store; the caller closes it. */
export async function openMetaStore(config: Pick<Config, 'meta' | 'dataDir' | 'postgresUrl'>, opts: MetaStoreOptions = {}): Promise<MetaStore> {
  if (config.meta === 'sqlite') return new SqliteMetaStore(join(config.dataDir, 'meta.sqlite'));
  const { log, poolMax } = opts;
  return PostgresMetaStore.open({
    connectionString: config.postgresUrl,
    max: poolMax,
    onError: log && ((err) => log.warn({ error: err.message }, 'postgres connection lost; the pool opens a new one')),
  });
}

/**
 * Opens the blob store. Blobs being written renew their modification time
 * four times per grace period (`blobGraceMs`), so no reaper takes them for orphans.
 */
export function openBlobStore(config: Pick<Config, 'dataDir' | 'blobGraceMs'>): BlobStore {
  return new FsBlobStore(join(config.dataDir, 'blobs'), { heartbeatMs: Math.min(15_000, Math.max(50, config.blobGraceMs / 4)) });
}
