/**
 * The cryptographic primitives of AWS Signature Version 4: hashes, the HMAC
 * chain that derives a signing key, the string to sign, and the two time
 * formats SigV4 uses.
 *
 * A signing key is HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region),
 * service), "aws4_request"): four HMACs that depend only on the secret and the
 * scope, so a server keeps the derived keys in a small bounded cache instead of
 * deriving one per request.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
import { createHash, createHmac, hash, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** The hex SHA-256 of no bytes, which the chunk string to sign carries. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: string | Uint8Array): string {
  // The one-shot crypto.hash (Node >= 20.12) skips the Hash object: it matters once per request.
  return typeof data === 'string' ? hash('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

export function hmac(key: Uint8Array | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function hmacHex(key: Uint8Array, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

/** `kSigning` for one secret and one scope (yyyyMMdd, region, service). */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac('AWS4' + secret, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

/**
 * A bounded cache of derived signing keys. One per authenticator (never a
 * module singleton): the entry is keyed by the secret itself, so two servers in
 * one process can share nothing and lose nothing. When full, the oldest entry
 * goes (Map keeps insertion order).
 */
export class SigningKeyCache {
  readonly #keys = new Map<string, Buffer>();
  constructor(readonly max = 256) {}

  get(secret: string, date: string, region: string, service: string): Buffer {
    const id = `${date}\n${region}\n${service}\n${secret}`;
    let key = this.#keys.get(id);
    if (key === undefined) {
      key = deriveSigningKey(secret, date, region, service);
      if (this.#keys.size >= this.max) this.#keys.delete(this.#keys.keys().next().value!);
      this.#keys.set(id, key);
    }
    return key;
  }
}

export function stringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}

/**
 * Compares a computed hex signature with the one a client sent, in constant
 * time. AWS accepts the signature in either letter case.
 */
export function signatureMatches(computedHex: string, providedHex: string): boolean {
  if (providedHex.length !== computedHex.length) return false;
  return timingSafeEqual(Buffer.from(computedHex, 'latin1'), Buffer.from(providedHex.toLowerCase(), 'latin1'));
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses the ISO 8601 basic format of `x-amz-date` (yyyyMMdd'T'HHmmss'Z').
 * Accepts exactly the strings `formatAmzDate` writes, so a parsed value is
 * its own canonical form: no value that Date.UTC would roll over (month 13,
 * February 30, 25:00, second 60), and no year below 100 (Date.UTC reads
 * those as 19xx).
 */
export function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]), h = Number(m[4]), mi = Number(m[5]), s = Number(m[6]);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = mo === 2 && leap ? 29 : MONTH_DAYS[mo - 1];
  if (y < 100 || days === undefined || d < 1 || d > days || h > 23 || mi > 59 || s > 59) return undefined;
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The `ServerTime` / `Expires` format of AWS error documents: 2013-05-24T00:00:00Z. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The `StringToSignBytes` / `CanonicalRequestBytes` format: "41 57 53 34 ...". */
export function hexBytes(text: string): string {
  const hex = Buffer.from(text, 'utf8').toString('hex');
  let out = '';
  for (let i = 0; i < hex.length; i += 2) out += (i ? ' ' : '') + hex.slice(i, i + 2);
  return out;
}
