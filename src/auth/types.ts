/// <reference types="node" />
/**
 * The shapes that authentication takes in and hands on. See index.ts for the
 * functions.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
}

/** Resolves an access key id to its credentials; `undefined` when unknown. */
export type CredentialLookup = (accessKeyId: string) => Promise<Credentials | undefined>;

export interface AuthRequest {
  method: string;
  /** The request path exactly as on the wire (percent-encoded as the client sent it), no query. */
  rawPath: string;
  /** The query string exactly as on the wire, without '?'; may be ''. */
  rawQuery: string;
  /** Lower-cased names, as node gives them. */
  headers: IncomingHttpHeaders;
  /**
   * Optional: node's `req.rawHeaders`. When given, a header sent more than
   * once is canonicalized exactly as SigV4 says (values joined with ',').
   */
  rawHeaders?: readonly string[];
}

/** How the request body is protected, decided by `x-amz-content-sha256`. */
export type PayloadMode =
  /** UNSIGNED-PAYLOAD, a presigned URL without a payload hash, or an anonymous request. */
  | { kind: 'unsigned' }
  /** A hex SHA-256 of the body was signed: the body must hash to it. */
  | { kind: 'sha256'; expected: string }
  /** STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: aws-chunked with signed chunks. */
  | { kind: 'chunked-signed'; trailer: boolean }
  /** STREAMING-UNSIGNED-PAYLOAD-TRAILER: aws-chunked, no chunk signatures, a trailer. */
  | { kind: 'chunked-unsigned'; trailer: true };

export interface AuthResult {
  anonymous: boolean;
  /** Set when the request is signed. */
  credentials?: Credentials;
  payload: PayloadMode;
  /** 'header' (Authorization) or 'presigned' (query string); absent when anonymous. */
  method?: 'header' | 'presigned';
  /** The region the client signed for (any region is accepted). */
  region?: string;
  /** The signature of the request: the seed of a chain of chunk signatures. */
  signature?: string;
  /** The derived signing key of the request's scope. */
  signingKey?: Buffer;
  /** yyyyMMdd/region/s3/aws4_request */
  scope?: string;
  /** The request time in ISO 8601 basic format (x-amz-date), as the chunk strings to sign carry it. */
  amzDate?: string;
  /** Lower-case names from SignedHeaders. */
  signedHeaders?: string[];
  /** x-amz-decoded-content-length, for aws-chunked bodies. */
  decodedContentLength?: number;
  /** Smallest size of a chunk that is not the last one (AWS: 8192). */
  minChunkSize?: number;
  [k: string]: unknown;
}

/**
 * The request body with its transfer framing removed and its integrity
 * checked. `trailers` holds the trailing headers once the stream has ended.
 */
export interface DecodedBody extends Readable {
  trailers: Record<string, string>;
}

export interface AuthOptions {
  /** The clock; defaults to `() => new Date()`. */
  now?: () => Date;
  /** Largest allowed difference between the request time and the clock (default 15 minutes). */
  maxSkewMs?: number;
  /** Smallest size of an aws-chunked chunk that is not the last one (default 8192, as AWS). */
  minChunkSize?: number;
  /** Entries in the signing-key cache (default 256). */
  keyCacheSize?: number;
}
