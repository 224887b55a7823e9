/**
 * Authentication of S3 requests: AWS Signature Version 4 in the Authorization
 * header and in presigned URLs, and the request-body decoder that keeps the
 * payload promises a signature makes (x-amz-content-sha256, aws-chunked signed
 * chunks and trailers, STREAMING-UNSIGNED-PAYLOAD-TRAILER).
 *
 * Two ways to use it:
 *
 *   const auth = createAuthenticator(lookup, { maxSkewMs, now });
 *   const result = await auth.authenticate(req);       // throws S3Error
 *   const body = auth.decodeBody(req, result, req.headers);
 *
 * or the free functions `authenticate(req, lookup, opts)` and
 * `decodeBody(raw, result, headers)`. An authenticator owns its cache of
 * derived signing keys; the free `authenticate` keeps one per `lookup`
 * function (a WeakMap: a derived key depends only on the secret and the scope,
 * so sharing one between servers is harmless, and nothing outlives its lookup).
 *
 * What is checked, in AWS's order: the syntax of the credentials
 * (AuthorizationHeaderMalformed, AuthorizationQueryParametersError,
 * InvalidArgument), the request time's presence, x-amz-content-sha256
 * (InvalidRequest when missing from a header-signed request, InvalidArgument
 * when not a valid value), that `host` and every x-amz-* header are signed
 * (AccessDenied), the access key (InvalidAccessKeyId), the signature
 * (SignatureDoesNotMatch, with the canonical request and string to sign),
 * then the time (RequestTimeTooSkewed beyond 15 minutes; for presigned URLs
 * "Request has expired" / "Request is not valid yet"). Any region is accepted;
 * the service must be `s3`. A request with neither an Authorization header nor
 * X-Amz-* presign parameters is anonymous: the caller decides whether that is
 * allowed.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { decodeBody as decode } from './body.js';
import { SigningKeyCache } from './crypto.js';
import type { AuthOptions, AuthRequest, AuthResult, CredentialLookup, DecodedBody } from './types.js';
import { verifyRequest } from './verify.js';

export type {
  AuthOptions,
  AuthRequest,
  AuthResult,
  CredentialLookup,
  Credentials,
  DecodedBody,
  PayloadMode,
} from './types.js';
export { canonicalUri, canonicalQuery, parseQuery, canonicalHeaders, canonicalRequest } from './canonical.js';
export { deriveSigningKey, stringToSign, SigningKeyCache, EMPTY_SHA256 } from './crypto.js';

const FIFTEEN_MINUTES = 15 * 60 * 1000;
const MIN_CHUNK_SIZE = 8192;

export interface Authenticator {
  /** Verifies a request's signature; resolves its AuthResult or throws an S3Error. */
  authenticate(req: AuthRequest, opts?: { now?: Date }): Promise<AuthResult>;
  /** See the free function `decodeBody`. */
  decodeBody(raw: Readable, auth: AuthResult, headers: IncomingHttpHeaders): DecodedBody;
}

export function createAuthenticator(lookup: CredentialLookup, options: AuthOptions = {}): Authenticator {
  const keys = new SigningKeyCache(options.keyCacheSize);
  const clock = options.now ?? (() => new Date());
  const maxSkewMs = options.maxSkewMs ?? FIFTEEN_MINUTES;
  const minChunkSize = options.minChunkSize ?? MIN_CHUNK_SIZE;
  return {
    authenticate: (req, opts) => verifyRequest(req, { lookup, keys, now: opts?.now ?? clock(), maxSkewMs, minChunkSize }),
    decodeBody: decode,
  };
}

const cachesByLookup = new WeakMap<CredentialLookup, SigningKeyCache>();

/**
 * Verifies the SigV4 signature of a request (Authorization header or
 * presigned URL). Resolves `{anonymous: true}` for an unsigned request;
 * throws an S3Error for a request AWS would refuse.
 */
export async function authenticate(
  req: AuthRequest,
  lookup: CredentialLookup,
  opts: { now?: Date; maxSkewMs?: number; minChunkSize?: number } = {},
): Promise<AuthResult> {
  let keys = cachesByLookup.get(lookup);
  if (!keys) cachesByLookup.set(lookup, (keys = new SigningKeyCache()));
  return verifyRequest(req, {
    lookup,
    keys,
    now: opts.now ?? new Date(),
    maxSkewMs: opts.maxSkewMs ?? FIFTEEN_MINUTES,
    minChunkSize: opts.minChunkSize ?? MIN_CHUNK_SIZE,
  });
}

/**
 * Wraps the raw request stream: strips aws-chunked framing, verifies each
 * chunk signature, the trailer signature, the x-amz-content-sha256 hash (for
 * kind sha256) and the decoded length vs x-amz-decoded-content-length (or
 * Content-Length); emits an S3Error on the returned stream ('error') on any
 * mismatch, always before 'end'. Data may be emitted before a later check
 * fails, so commit only on 'end'. After 'end', `trailers` holds the trailing
 * headers (e.g. {'x-amz-checksum-crc32': '...'}) the client sent; checking
 * their values against the data is the caller's job.
 *
 * On an error `raw` is unpiped, not destroyed: answer the error, then close
 * the connection (or drain `raw`).
 */
export function decodeBody(raw: Readable, auth: AuthResult, headers: IncomingHttpHeaders): DecodedBody {
  return decode(raw, auth, headers);
}
