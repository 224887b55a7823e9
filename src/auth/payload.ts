/**
 * `x-amz-content-sha256`: what the client says about the body, and so how
 * decodeBody checks it.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 */
import { S3Error } from '../errors.js';
import type { PayloadMode } from './types.js';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
const ECDSA = new Set(['STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER']);

const BAD_VALUE =
  'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, ' +
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, ' +
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.';

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * The payload mode for one value of x-amz-content-sha256. Throws
 * InvalidArgument, as AWS does, for anything else; the SigV4a (ECDSA)
 * streaming forms are valid on AWS but not implemented here.
 */
export function payloadMode(value: string): PayloadMode {
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case STREAMING_SIGNED:
      return { kind: 'chunked-signed', trailer: false };
    case STREAMING_SIGNED_TRAILER:
      return { kind: 'chunked-signed', trailer: true };
    case STREAMING_UNSIGNED_TRAILER:
      return { kind: 'chunked-unsigned', trailer: true };
  }
  if (SHA256_HEX.test(value)) return { kind: 'sha256', expected: value.toLowerCase() };
  if (ECDSA.has(value)) throw new S3Error('NotImplemented');
  throw new S3Error('InvalidArgument', BAD_VALUE, {
    ArgumentName: 'x-amz-content-sha256',
    ArgumentValue: value,
  });
}

/**
 * x-amz-decoded-content-length, which an aws-chunked body must carry: without
 * it AWS answers 411 MissingContentLength.
 */
export function decodedContentLength(value: string | string[] | undefined): number {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) throw new S3Error('MissingContentLength');
  return Number(value);
}
