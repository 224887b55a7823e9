import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { AuthResult, Authenticator, DecodedBody } from '../auth/index.js';
import type { BlobStore } from '../blob/types.js';
import type { Config } from '../config.js';
import type { ServerKeys } from '../crypto/keys.js';
import type { BucketRow, MetaStore } from '../meta/types.js';
import type { Metrics } from '../http/ops.js';
import type { Accounts, Account } from '../engine/accounts/accounts.js';
import type { HashPool } from '../util/hash-pool.js';

/** Everything a handler may use, injected through startServer(deps): no module singletons. */
export interface Deps {
  meta: MetaStore;
  blobs: BlobStore;
  config: Config;
  log: Logger;
  accounts: Accounts;
  auth: Authenticator;
  /** Background jobs the API can poke (collector after deletes) or add to (lifecycle). */
  /** Request metrics for the /-/metrics endpoint. */
  metrics: Metrics;
  jobs: { collectSoon(): void; register(name: string, job: (now: number) => Promise<void>): void };
  /** SSE-S3 master key and SSE-KMS keyring (src/crypto/keys.ts). */
  sseKeys: ServerKeys;
  /** Worker threads that hash large bodies and copied ranges off the event loop (src/util/hash-pool.ts). */
  hashPool: HashPool;
}

/** A request resolved once, before any handler runs. */
export interface RequestContext {
  op: string;
  requestId: string;
  hostId: string;
  method: string;
  bucket?: string;
  key?: string;
  /** The path as sent, for `<Resource>`. */
  resource: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  secure: boolean;
  remoteAddress: string;
  auth: AuthResult;
  /** The authenticated account; undefined for anonymous requests. */
  principal?: Account;
  /** The target bucket, resolved for every bucket- and object-level operation but CreateBucket. */
  bucketRow?: BucketRow;
  deps: Deps;
  /** The decoded request body (aws-chunked framing removed, signatures and hashes verified). */
  body(): DecodedBody;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Set by handlers for the access log. */
  bytesIn?: number;
}

export type Headers = Record<string, string | number | string[] | undefined>;

export interface S3Response {
  status: number;
  headers?: Headers;
  body?: string | Buffer | Readable;
}

export type Handler = (ctx: RequestContext) => Promise<S3Response>;

/** The bucket of an operation that the router resolved; handlers of bucket and object operations may rely on it. */
export function bucketOf(ctx: RequestContext): BucketRow {
  if (!ctx.bucketRow) throw new Error(`${ctx.op}: bucket not resolved`);
  return ctx.bucketRow;
}

export function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
