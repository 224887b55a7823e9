import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { BucketRow } from '../meta/types.js';
import type { Accounts, Account } from '../engine/accounts/accounts.js';
import type { EngineDeps } from '../engine/deps.js';

/**
 * The request context, handler and response types: api/'s own, so that the
 * S3 rules need nothing from the wire layer above them (src/http/ builds a
 * RequestContext for each request and writes the S3Response a handler returns).
 */

/** Everything a handler may use, injected through startServer(deps): no module singletons. */
export interface Deps extends EngineDeps {
  log: Logger;
  accounts: Accounts;
  /** Background jobs the API can poke (collector after deletes) or add to (lifecycle). */
  jobs: { collectSoon(): void; register(name: string, job: (now: number) => Promise<void>): void };
}

/** How a request was authenticated, as far as S3 rules ask (src/auth's AuthResult is one). */
export interface RequestAuth {
  anonymous: boolean;
  method?: 'header' | 'presigned';
}

/** A request body with its aws-chunked framing removed and its signatures and hashes verified, and its trailers. */
export interface RequestBody extends Readable {
  trailers: Record<string, string>;
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
  auth: RequestAuth;
  /** The authenticated account; undefined for anonymous requests. */
  principal?: Account;
  /** The target bucket, resolved for every bucket- and object-level operation but CreateBucket. */
  bucketRow?: BucketRow;
  deps: Deps;
  /** The decoded request body (aws-chunked framing removed, signatures and hashes verified). */
  body(): RequestBody;
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
