/// <reference types="node" />
/**
 * S3 "flexible checksums", server side: the five algorithms a client may name
 * in `x-amz-checksum-algorithm` / `x-amz-sdk-checksum-algorithm`, streaming
 * checksummers for request bodies, validation of `x-amz-checksum-*` header
 * values, and the two multipart forms:
 *
 * - FULL_OBJECT (CRCs only): the CRC of the whole object, derived from the
 *   parts' CRCs with {@link combineCrc}, no data re-read.
 * - COMPOSITE ("checksum of checksums"): the algorithm applied to the
 *   concatenated raw part checksums, base64, then `-<part count>`; see
 *   {@link compositeChecksum}.
 *
 * A checksum's wire form is base64 of its raw big-endian bytes: 4 bytes for
 * CRC32 and CRC32C, 8 for CRC64NVME, 20 for SHA1, 32 for SHA256.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 */
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { combineCrcValue, type CrcSpec } from './crc-combine.js';
import { crc32cUpdateRaw } from './crc32c.js';
import { Crc64Nvme } from './crc64nvme.js';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

/** Every algorithm S3 accepts, in the order AWS documents them. */
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = Object.freeze([
  'CRC32',
  'CRC32C',
  'CRC64NVME',
  'SHA1',
  'SHA256',
]);

/** The CRC algorithms, the only ones with a FULL_OBJECT multipart form. */
export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';

/** Raw digest length in bytes per algorithm. */
export const CHECKSUM_LENGTHS: Readonly<Record<ChecksumAlgorithm, number>> = Object.freeze({
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
});

/** The header carrying the algorithm's value: `x-amz-checksum-crc32`, ... */
export function checksumHeader(a: ChecksumAlgorithm): string {
  return `x-amz-checksum-${a.toLowerCase()}`;
}

/**
 * The algorithm named by `s` (case-insensitive, as S3 accepts in
 * `x-amz-checksum-algorithm`), or undefined for a missing or unknown name.
 */
export function parseChecksumAlgorithm(s: string | undefined): ChecksumAlgorithm | undefined {
  if (s === undefined) return undefined;
  const u = s.trim().toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(u) ? (u as ChecksumAlgorithm) : undefined;
}

/**
 * A streaming checksum. `update` may be called with any chunking of the body;
 * `digest` returns the raw big-endian bytes and may be called more than once
 * for the CRCs (the hash algorithms allow one call, like node:crypto).
 */
export interface Checksummer {
  update(b: Buffer): void;
  digest(): Buffer;
}

class Crc32Checksummer implements Checksummer {
  private crc = 0;
  update(b: Buffer): void {
    this.crc = zlibCrc32(b, this.crc);
  }
  digest(): Buffer {
    return u32be(this.crc);
  }
}

class Crc32cChecksummer implements Checksummer {
  /** Unfinalised register. */
  private reg = 0xffffffff;
  update(b: Buffer): void {
    this.reg = crc32cUpdateRaw(this.reg, b);
  }
  digest(): Buffer {
    return u32be((this.reg ^ 0xffffffff) >>> 0);
  }
}

class HashChecksummer implements Checksummer {
  private readonly h;
  constructor(alg: 'sha1' | 'sha256') {
    this.h = createHash(alg);
  }
  update(b: Buffer): void {
    this.h.update(b);
  }
  digest(): Buffer {
    return this.h.digest();
  }
}

function u32be(n: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(n >>> 0, 0);
  return out;
}

/** A fresh streaming checksummer for `a`. */
export function createChecksummer(a: ChecksumAlgorithm): Checksummer {
  switch (a) {
    case 'CRC32':
      return new Crc32Checksummer();
    case 'CRC32C':
      return new Crc32cChecksummer();
    case 'CRC64NVME':
      return new Crc64Nvme();
    case 'SHA1':
      return new HashChecksummer('sha1');
    case 'SHA256':
      return new HashChecksummer('sha256');
    default:
      throw new TypeError(`unknown checksum algorithm: ${String(a)}`);
  }
}

/** The raw checksum of `data` under `a`. */
export function checksumRaw(a: ChecksumAlgorithm, data: Buffer): Buffer {
  const c = createChecksummer(a);
  c.update(data);
  return c.digest();
}

/** The header (base64) form of the checksum of `data` under `a`. */
export function checksumBase64(a: ChecksumAlgorithm, data: Buffer): string {
  return checksumRaw(a, data).toString('base64');
}

/** Reflected polynomials of the CRCs, for combination. */
const CRC_SPECS: Readonly<Record<CrcAlgorithm, CrcSpec>> = {
  CRC32: { width: 32, poly: 0xedb88320n },
  CRC32C: { width: 32, poly: 0x82f63b78n },
  CRC64NVME: { width: 64, poly: 0x9a6c9329ac4bc9b5n },
};

/**
 * Full-object CRC of A||B from crc(A), crc(B), len(B) (zlib's crc32_combine,
 * generalised to the reflected CRC32, CRC32C and CRC64NVME polynomials).
 * `crcA` and `crcB` are raw big-endian digests (4 or 8 bytes); the result has
 * the same form. O(log lenB): fine for 5 GiB parts.
 */
export function combineCrc(a: CrcAlgorithm, crcA: Buffer, crcB: Buffer, lenB: number): Buffer {
  const spec = CRC_SPECS[a];
  const n = spec.width / 8;
  if (crcA.length !== n || crcB.length !== n) {
    throw new RangeError(`combineCrc: ${a} digests are ${n} bytes`);
  }
  if (!Number.isSafeInteger(lenB) || lenB < 0) {
    throw new RangeError(`combineCrc: bad length ${lenB}`);
  }
  const v = combineCrcValue(spec, readBE(crcA), readBE(crcB), BigInt(lenB));
  return n === 4 ? u32be(Number(v)) : u64be(v);
}

function readBE(b: Buffer): bigint {
  return b.length === 4 ? BigInt(b.readUInt32BE(0)) : b.readBigUInt64BE(0);
}

function u64be(v: bigint): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64BE(v, 0);
  return out;
}

/**
 * S3 composite ("checksum of checksums") value for a multipart upload:
 * base64(hash(concat(raw part checksums))) + '-' + number of parts. `partRaw`
 * holds the parts' raw digests in part-number order.
 *
 * S3 offers COMPOSITE for CRC32, CRC32C, SHA1 and SHA256 (CRC64NVME uploads
 * are FULL_OBJECT only); the computation itself is the same for all five.
 */
export function compositeChecksum(a: ChecksumAlgorithm, partRaw: Buffer[]): string {
  const want = CHECKSUM_LENGTHS[a];
  for (const p of partRaw) {
    if (p.length !== want) throw new RangeError(`compositeChecksum: ${a} part digests are ${want} bytes`);
  }
  return `${checksumBase64(a, Buffer.concat(partRaw))}-${partRaw.length}`;
}

/**
 * Whether `b64` is a well-formed value for an `x-amz-checksum-*` header of
 * algorithm `a`: canonical padded standard base64 (what S3 and the SDKs send)
 * that decodes to exactly the algorithm's digest length. Node's decoder is
 * lenient (it skips junk, accepts the URL-safe alphabet and missing padding),
 * so the value must also survive a decode/encode round trip unchanged; that
 * makes comparing header strings equivalent to comparing digests.
 */
export function isValidChecksumValue(a: ChecksumAlgorithm, b64: string): boolean {
  if (typeof b64 !== 'string') return false;
  const raw = Buffer.from(b64, 'base64');
  return raw.length === CHECKSUM_LENGTHS[a] && raw.toString('base64') === b64;
}
