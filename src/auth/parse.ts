/**
 * Reads the two SigV4 forms, the `Authorization` header and the presigned
 * query string, into one `SignedClaim`: who signed, for which scope and time,
 * over which headers, with which signature. Every syntax error is answered as
 * AWS answers it; nothing here touches a secret.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 */
import { S3Error, type S3ErrorCode } from '../errors.js';
import { canonicalQuery, type QueryParam } from './canonical.js';
import { ALGORITHM, formatAmzDate, parseAmzDate } from './crypto.js';
import { UNSIGNED_PAYLOAD } from './payload.js';
import type { AuthRequest } from './types.js';

/** Everything a signature claims, before it is checked. */
export interface SignedClaim {
  method: 'header' | 'presigned';
  accessKeyId: string;
  region: string;
  /** yyyyMMdd/region/s3/aws4_request */
  scope: string;
  signedHeaders: string[];
  signature: string;
  /** The request time in ISO 8601 basic format, as the string to sign carries it. */
  amzDate: string;
  requestTime: Date;
  /** The time as the client sent it (x-amz-date, Date or X-Amz-Date). */
  rawTime: string;
  /** The last line of the canonical request. */
  payloadHash: string;
  canonicalQuery: string;
  /** X-Amz-Expires, for presigned URLs. */
  expires?: number;
}

const VERSION_2 = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';
const PRESIGN_PARAMS = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-signature', 'x-amz-date', 'x-amz-signedheaders', 'x-amz-expires'];
const MAX_EXPIRES = 604800;

/** The lower-cased X-Amz-* query parameters (the SDKs send them capitalized, AWS reads any case). */
export function presignParams(params: readonly QueryParam[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const p of params) {
    const lower = p.name.toLowerCase();
    if (lower.startsWith('x-amz-') && !found.has(lower)) found.set(lower, p.value);
  }
  return found;
}

export function isPresigned(found: Map<string, string>): boolean {
  return PRESIGN_PARAMS.some((n) => found.has(n));
}

export function isSignatureV2Query(params: readonly QueryParam[]): boolean {
  return params.some((p) => p.name === 'AWSAccessKeyId') && params.some((p) => p.name === 'Signature');
}

interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
}

/** Parses `AKID/yyyyMMdd/region/s3/aws4_request`; `fail` shapes the error. */
function parseCredential(credential: string, fail: (detail: string) => S3Error): Scope {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) {
    throw fail('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  const [accessKeyId, date, region, service, terminal] = parts as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date)) {
    throw fail(`incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".`);
  }
  if (service !== 's3') throw fail(`incorrect service "${service}". This endpoint belongs to "s3".`);
  if (terminal !== 'aws4_request') throw fail(`incorrect terminal "${terminal}". This endpoint uses "aws4_request".`);
  return { accessKeyId, date, region };
}

function dateMismatch(scopeDate: string, amzDate: string): string {
  return `Invalid credential date "${scopeDate}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`;
}

function headerValue(headers: AuthRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Errors for an Authorization header that is not SigV4. */
function unsupportedScheme(value: string): S3Error {
  if (/^AWS\s/.test(value)) return new S3Error('InvalidRequest', VERSION_2);
  if (value.startsWith('AWS4-ECDSA-P256-SHA256')) return new S3Error('NotImplemented');
  return new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
    ArgumentName: 'Authorization',
    ArgumentValue: value,
  });
}

/**
 * Splits `Credential=..., SignedHeaders=..., Signature=...` (commas, optional blanks).
 * A component given twice is refused, never decided by its last value, in the words AWS uses for
 * a component it cannot read.
 */
function authorizationParts(value: string): { credential: string; signedHeaders: string; signature: string } {
  const parts = new Map<string, string>();
  for (const piece of value.slice(ALGORITHM.length).split(',')) {
    const item = piece.trim();
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const name = item.slice(0, eq);
    if (parts.has(name)) throw malformed(`the authorization component "${item}" is malformed.`);
    parts.set(name, item.slice(eq + 1));
  }
  const credential = parts.get('Credential');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw malformed('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  }
  return { credential, signedHeaders, signature };
}

function malformed(detail: string): S3Error {
  return new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed; ' + detail);
}

/** A Date header: the HTTP date format (IMF-fixdate), or the ISO 8601 basic format. */
function parseDateHeader(raw: string): Date | undefined {
  return parseAmzDate(raw) ?? (/ GMT$/.test(raw) ? new Date(raw) : undefined);
}

/**
 * The request time of a header-signed request: x-amz-date, else Date; `amzDate` is it in the ISO 8601 basic format
 * (a valid x-amz-date is already in that form: parseAmzDate accepts only canonical strings).
 */
function headerTime(headers: AuthRequest['headers']): { date: Date; raw: string; amzDate: string } {
  const amz = headerValue(headers, 'x-amz-date');
  const raw = amz ?? headerValue(headers, 'date');
  const date = amz !== undefined ? parseAmzDate(amz) : raw !== undefined ? parseDateHeader(raw) : undefined;
  if (raw === undefined || date === undefined || Number.isNaN(date.getTime())) {
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  return { date, raw, amzDate: amz ?? formatAmzDate(date) };
}

/** Reads an `Authorization: AWS4-HMAC-SHA256 ...` header. */
export function parseHeaderAuth(value: string, req: AuthRequest, params: readonly QueryParam[]): SignedClaim {
  if (!value.startsWith(ALGORITHM + ' ')) throw unsupportedScheme(value);
  const { credential, signedHeaders, signature } = authorizationParts(value);
  const scope = parseCredential(credential, malformed);
  const time = headerTime(req.headers);
  const amzDate = time.amzDate;
  if (scope.date !== amzDate.slice(0, 8)) throw malformed(dateMismatch(scope.date, amzDate));
  const payloadHash = headerValue(req.headers, 'x-amz-content-sha256');
  if (payloadHash === undefined) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  return {
    method: 'header',
    accessKeyId: scope.accessKeyId,
    region: scope.region,
    scope: `${scope.date}/${scope.region}/s3/aws4_request`,
    signedHeaders: signedHeaders.split(';').filter((h) => h !== ''),
    signature,
    amzDate,
    requestTime: time.date,
    rawTime: time.raw,
    payloadHash,
    canonicalQuery: canonicalQuery(params),
  };
}

function queryError(message: string, code: S3ErrorCode = 'AuthorizationQueryParametersError'): S3Error {
  return new S3Error(code, message);
}

function parseExpires(value: string): number {
  if (!/^-?\d+$/.test(value)) throw queryError('X-Amz-Expires should be a number');
  const expires = Number(value);
  if (expires < 0) throw queryError('X-Amz-Expires must be non-negative');
  if (expires > MAX_EXPIRES) {
    throw queryError(
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    );
  }
  return expires;
}

/** Reads the X-Amz-* parameters of a presigned URL. */
export function parsePresigned(found: Map<string, string>, req: AuthRequest, params: readonly QueryParam[]): SignedClaim {
  if (!PRESIGN_PARAMS.every((n) => found.has(n))) {
    throw queryError(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  const get = (n: string) => found.get(n)!;
  if (get('x-amz-algorithm') !== ALGORITHM) {
    throw queryError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"');
  }
  const fail = (detail: string) => queryError('Error parsing the X-Amz-Credential parameter; ' + detail);
  const scope = parseCredential(get('x-amz-credential'), fail);
  const rawTime = get('x-amz-date');
  const date = parseAmzDate(rawTime);
  if (!date) throw queryError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  const expires = parseExpires(get('x-amz-expires'));
  if (scope.date !== rawTime.slice(0, 8)) throw fail(dateMismatch(scope.date, rawTime));
  const payloadHash = headerValue(req.headers, 'x-amz-content-sha256') ?? found.get('x-amz-content-sha256') ?? UNSIGNED_PAYLOAD;
  return {
    method: 'presigned',
    accessKeyId: scope.accessKeyId,
    region: scope.region,
    scope: `${scope.date}/${scope.region}/s3/aws4_request`,
    signedHeaders: get('x-amz-signedheaders').split(';').filter((h) => h !== ''),
    signature: get('x-amz-signature'),
    amzDate: rawTime,
    requestTime: date,
    rawTime,
    payloadHash,
    canonicalQuery: canonicalQuery(params, (p) => p.name.toLowerCase() === 'x-amz-signature'),
    expires,
  };
}
