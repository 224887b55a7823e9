/**
 * Checks a SigV4-signed request: the headers it must sign, the access key, the
 * signature, then the time, in that order (AWS reports an unknown key or a bad
 * signature before a skewed clock or an expired URL).
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */
import { S3Error } from '../errors.js';
import { canonicalHeaders, canonicalRequest, canonicalUri, parseQuery } from './canonical.js';
import { hexBytes, hmacHex, isoSeconds, signatureMatches, SigningKeyCache, stringToSign } from './crypto.js';
import { isPresigned, isSignatureV2Query, parseHeaderAuth, parsePresigned, presignParams, type SignedClaim } from './parse.js';
import { decodedContentLength, payloadMode } from './payload.js';
import type { AuthRequest, AuthResult, CredentialLookup, Credentials, PayloadMode } from './types.js';

export interface VerifyContext {
  lookup: CredentialLookup;
  keys: SigningKeyCache;
  now: Date;
  maxSkewMs: number;
  minChunkSize: number;
}

const ONE_MECHANISM =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified';
const VERSION_2 = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';

/** See `authenticate` in index.ts. */
export async function verifyRequest(req: AuthRequest, ctx: VerifyContext): Promise<AuthResult> {
  const params = parseQuery(req.rawQuery);
  const found = presignParams(params);
  const rawAuth = req.headers.authorization;
  const authorization = Array.isArray(rawAuth) ? rawAuth.join(',') : rawAuth;
  const presigned = isPresigned(found);
  if (authorization) {
    if (presigned || isSignatureV2Query(params)) {
      throw new S3Error('InvalidArgument', ONE_MECHANISM, { ArgumentName: 'Authorization', ArgumentValue: authorization });
    }
    return verifyClaim(parseHeaderAuth(authorization, req, params), req, ctx);
  }
  if (presigned) return verifyClaim(parsePresigned(found, req, params), req, ctx);
  if (isSignatureV2Query(params)) throw new S3Error('InvalidRequest', VERSION_2);
  return { anonymous: true, payload: { kind: 'unsigned' } };
}

async function verifyClaim(claim: SignedClaim, req: AuthRequest, ctx: VerifyContext): Promise<AuthResult> {
  const payload = payloadMode(claim.payloadHash);
  checkSignedHeaders(claim, req);
  const credentials = await ctx.lookup(claim.accessKeyId);
  if (!credentials) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: claim.accessKeyId });
  const date = claim.scope.slice(0, 8);
  const signingKey = ctx.keys.get(credentials.secretAccessKey, date, claim.region, 's3');
  const canonical = canonicalRequest(
    req.method,
    canonicalUri(req.rawPath),
    claim.canonicalQuery,
    canonicalHeaders(claim.signedHeaders, req.headers, req.rawHeaders),
    claim.signedHeaders.join(';'),
    claim.payloadHash,
  );
  const toSign = stringToSign(claim.amzDate, claim.scope, canonical);
  const signature = hmacHex(signingKey, toSign);
  if (!signatureMatches(signature, claim.signature)) {
    throw signatureMismatch(claim.accessKeyId, toSign, claim.signature, canonical);
  }
  checkTime(claim, ctx);
  return result(claim, credentials, payload, signingKey, signature, req, ctx);
}

function result(
  claim: SignedClaim,
  credentials: Credentials,
  payload: PayloadMode,
  signingKey: Buffer,
  signature: string,
  req: AuthRequest,
  ctx: VerifyContext,
): AuthResult {
  const out: AuthResult = {
    anonymous: false,
    credentials,
    payload,
    method: claim.method,
    region: claim.region,
    signature,
    signingKey,
    scope: claim.scope,
    amzDate: claim.amzDate,
    signedHeaders: claim.signedHeaders,
    minChunkSize: ctx.minChunkSize,
  };
  if (payload.kind === 'chunked-signed' || payload.kind === 'chunked-unsigned') {
    out.decodedContentLength = decodedContentLength(req.headers['x-amz-decoded-content-length']);
  }
  return out;
}

/**
 * `host` and every `x-amz-*` header the request carries must be signed. In a
 * presigned URL, `x-amz-content-sha256` may go unsigned (clients add it
 * after presigning; AWS ignores it there).
 */
function checkSignedHeaders(claim: SignedClaim, req: AuthRequest): void {
  const signed = new Set(claim.signedHeaders);
  const missing: string[] = [];
  if (!signed.has('host')) missing.push('host');
  for (const name of Object.keys(req.headers)) {
    if (!name.startsWith('x-amz-') || signed.has(name)) continue;
    if (claim.method === 'presigned' && name === 'x-amz-content-sha256') continue;
    missing.push(name);
  }
  if (missing.length > 0) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: missing.join(', '),
    });
  }
}

function checkTime(claim: SignedClaim, ctx: VerifyContext): void {
  const now = ctx.now.getTime();
  const at = claim.requestTime.getTime();
  if (claim.expires === undefined) {
    if (Math.abs(now - at) > ctx.maxSkewMs) {
      throw new S3Error('RequestTimeTooSkewed', undefined, {
        RequestTime: claim.rawTime,
        ServerTime: isoSeconds(ctx.now),
        MaxAllowedSkewMilliseconds: ctx.maxSkewMs,
      });
    }
    return;
  }
  if (at - now > ctx.maxSkewMs) {
    throw new S3Error('AccessDenied', 'Request is not valid yet', {
      'X-Amz-Date': claim.rawTime,
      ServerTime: isoSeconds(ctx.now),
    });
  }
  const end = at + claim.expires * 1000;
  if (claim.expires === 0 || now > end) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': claim.expires,
      Expires: isoSeconds(new Date(end)),
      ServerTime: isoSeconds(ctx.now),
    });
  }
}

/** SignatureDoesNotMatch with the strings the server signed, as AWS returns them. */
export function signatureMismatch(accessKeyId: string, toSign: string, provided: string, canonical?: string): S3Error {
  const fields: Record<string, string> = {
    AWSAccessKeyId: accessKeyId,
    StringToSign: toSign,
    SignatureProvided: provided,
    StringToSignBytes: hexBytes(toSign),
  };
  if (canonical !== undefined) {
    fields.CanonicalRequest = canonical;
    fields.CanonicalRequestBytes = hexBytes(canonical);
  }
  return new S3Error('SignatureDoesNotMatch', undefined, fields);
}
