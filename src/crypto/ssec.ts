import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';

/**
 * SSE-C: server-side encryption with a key the customer sends on every
 * request, as three headers (the "triad"): algorithm (must be AES256), the
 * base64 256-bit key, and the base64 MD5 of the key. A copy has two triads:
 * `x-amz-server-side-encryption-customer-*` for the destination and
 * `x-amz-copy-source-server-side-encryption-customer-*` for the source.
 *
 * The key lives only in the request: Tessera never writes it to disk or logs.
 * To recognise the same key on a later request it stores a *key check*, an
 * HMAC-SHA256 of the key under a random 16-byte salt (`<salt>.<mac>`,
 * base64); the data itself is sealed under a KEK derived from the key
 * (`envelope.ts`), so a wrong key can never decrypt anything either.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html
 */
export const DEST_PREFIX = 'x-amz-server-side-encryption-customer-';
export const SOURCE_PREFIX = 'x-amz-copy-source-server-side-encryption-customer-';

/** A validated customer key from one triad. */
export interface CustomerKey {
  key: Buffer;
  /** Base64 MD5 of the key, as the client sent it (echoed in responses). */
  keyMd5: string;
}

const ARG = 'x-amz-server-side-encryption';

function one(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** True when a request carries any header of the triad with this prefix. */
export function hasTriad(headers: IncomingHttpHeaders, prefix: string): boolean {
  return headers[prefix + 'algorithm'] !== undefined || headers[prefix + 'key'] !== undefined || headers[prefix + 'key-md5'] !== undefined;
}

/** SSE-C is refused over plain HTTP, as AWS refuses it, unless the operator allowed it. */
export function requireSecure(secure: boolean, allowInsecure: boolean): void {
  if (!secure && !allowInsecure) {
    throw new S3Error('InvalidRequest', 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
  }
}

/** The algorithm header of a triad must be AES256. */
export function checkAlgorithm(algorithm: string | undefined): void {
  if (algorithm === undefined || algorithm === '') {
    throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', { ArgumentName: ARG });
  }
  if (algorithm !== 'AES256') {
    throw new S3Error('InvalidEncryptionAlgorithmError', 'The Encryption request you specified is not valid. Supported value: AES256.', { ArgumentName: ARG, ArgumentValue: algorithm });
  }
}

/**
 * Parses and validates the triad with this prefix; undefined when the request
 * carries none of its headers. Errors are AWS's (recorded in
 * test_put_object_validation_sse_c), in AWS's order: transport, algorithm,
 * key present, key well-formed, MD5 present, MD5 matches.
 */
export function parseCustomerKey(headers: IncomingHttpHeaders, prefix: string, transport: { secure: boolean; allowInsecure: boolean }): CustomerKey | undefined {
  if (!hasTriad(headers, prefix)) return undefined;
  requireSecure(transport.secure, transport.allowInsecure);
  checkAlgorithm(one(headers, prefix + 'algorithm'));
  const rawKey = one(headers, prefix + 'key');
  if (rawKey === undefined || rawKey === '') {
    throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', { ArgumentName: ARG });
  }
  const key = Buffer.from(rawKey, 'base64');
  if (key.length !== 32 || key.toString('base64') !== rawKey.trim()) {
    throw new S3Error('InvalidArgument', 'The secret key was invalid for the specified algorithm.', { ArgumentName: ARG });
  }
  const keyMd5 = one(headers, prefix + 'key-md5');
  // AWS answers a missing MD5 as it answers a malformed key (recorded: put-obj-sse-c-no-md5).
  if (keyMd5 === undefined || keyMd5 === '') {
    throw new S3Error('InvalidArgument', 'The secret key was invalid for the specified algorithm.', { ArgumentName: ARG });
  }
  if (createHash('md5').update(key).digest('base64') !== keyMd5.trim()) {
    throw new S3Error('InvalidArgument', 'The calculated MD5 hash of the key did not match the hash that was provided.', { ArgumentName: ARG });
  }
  return { key, keyMd5: keyMd5.trim() };
}

/** A new key check for a customer key: `<salt>.<HMAC-SHA256(salt, key)>`, base64. */
export function keyCheck(key: Buffer): string {
  const salt = randomBytes(16);
  return `${salt.toString('base64')}.${createHmac('sha256', salt).update(key).digest('base64')}`;
}

/** True when this key produced the stored key check. */
export function matchesKeyCheck(key: Buffer, check: string): boolean {
  const [salt, mac] = check.split('.');
  if (!salt || !mac) return false;
  const expected = Buffer.from(mac, 'base64');
  const actual = createHmac('sha256', Buffer.from(salt, 'base64')).update(key).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
