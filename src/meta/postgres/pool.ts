import pg from 'pg';
import type { CustomTypesConfig, Pool, PoolClient } from 'pg';
import { BlobGone, BucketGone } from '../types.js';
import type { Row } from './rows.js';

/** Runs one statement and returns its rows. */
export type Query = (sql: string, params?: unknown[]) => Promise<Row[]>;

export interface PostgresOptions {
  /**
   * `postgres://user:password@host:port/database`. Unset, node-postgres
   * falls back to the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE, ...).
   */
  connectionString?: string;
  /** Connections this process keeps open (default 10). */
  max?: number;
  /** Errors of idle connections (a restarted database, a dropped network); the pool replaces them. */
  onError?: (err: Error) => void;
  /**
   * How long another process's accounts change may go unseen at most, in ms
   * (default 1000): the accounts generation is cached at most this long
   * between notifications (accounts-cache.ts).
   */
  accountsMaxAgeMs?: number;
}

const INT8 = 20;

/** bigint as a JS number: sizes, times and seqs stay far below 2^53. */
const TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/** Deadlock and serialization failures: the transaction was rolled back whole and may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

export function createPool(opts: PostgresOptions): Pool {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    types: TYPES,
    connectionTimeoutMillis: 10_000,
    application_name: 'tessera',
  });
  pool.on('error', (err) => opts.onError?.(err));
  return pool;
}

/** The store's own SQLSTATEs (schema.ts) as the errors its callers know. */
function translate(e: unknown): unknown {
  if (!(e instanceof pg.DatabaseError)) return e;
  if (e.code === 'TS001') return new BlobGone(e.detail ?? '');
  if (e.code === 'TS002') return new Error('putPart: upload missing and check did not throw');
  if (e.code === 'TS003') return new BucketGone(e.detail ?? '');
  // A new blob's id already has a row: the reaper's tombstone (a new id is random, so nothing else can hold it).
  if (e.code === '23505' && e.constraint === 'blobs_pkey') return new BlobGone(/\(id\)=\(([^)]*)\)/.exec(e.detail ?? '')?.[1] ?? '');
  return e;
}

async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt < MAX_ATTEMPTS && e instanceof pg.DatabaseError && RETRYABLE.has(e.code ?? '')) continue;
      throw translate(e);
    }
  }
}

/** One statement, its own transaction. */
export function autocommit(pool: Pool): Query {
  return (sql, params) => retrying(async () => (await pool.query(sql, params)).rows);
}

/**
 * Runs `fn` in one transaction on one pooled connection (READ COMMITTED; the
 * statements it runs take the row locks they need). Whatever `fn` throws,
 * a check callback's S3 error included, rolls the transaction back and
 * reaches the caller; a deadlock runs the whole of `fn` again.
 */
export function transaction<T>(pool: Pool, fn: (q: Query) => Promise<T>): Promise<T> {
  return retrying(async () => {
    const client: PoolClient = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const out = await fn(async (sql, params) => (await client.query(sql, params)).rows);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch((err: Error) => {
        broken = err;
      });
      throw e;
    } finally {
      client.release(broken);
    }
  });
}
