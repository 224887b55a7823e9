import { createCipheriv, createDecipheriv, randomBytes, type CipherGCM, type DecipherGCM } from 'node:crypto';

/**
 * # Encrypted blobs: the on-disk format (version 1)
 *
 * Tessera encrypts object data with envelope encryption. Every encrypted blob
 * has its own random 256-bit **data key** and a random 4-byte **nonce prefix**,
 * both drawn when the blob is created and never used for any other blob.
 *
 * **Segments.** The plaintext is cut into segments of exactly 64 KiB
 * (`SEGMENT_SIZE`); only the last segment of a blob may be shorter. Segment
 * `i` is encrypted on its own with AES-256-GCM under the data key:
 *
 * - nonce (12 bytes) = nonce prefix (4 bytes) || `i` as a big-endian uint64;
 * - additional authenticated data = the ASCII string `tessera/seg/v1`, a NUL,
 *   the blob id, a NUL, then `i` as a big-endian uint64. A segment therefore
 *   authenticates only at its own position in its own blob: segments cannot be
 *   reordered, duplicated or moved between blobs without failing the tag;
 * - stored bytes = ciphertext (as long as the plaintext segment) followed by
 *   the 16-byte GCM tag.
 *
 * The blob file (or inline blob) is the concatenation of the stored segments,
 * with no header. A blob of `n` plaintext bytes stores
 * `n + 16 * ceil(n / 65536)` bytes, and plaintext byte `p` lives in segment
 * `floor(p / 65536)`, which starts at stored offset `floor(p / 65536) * 65552`.
 * A byte range is read by fetching and authenticating just the segments that
 * cover it; no plaintext leaves the decryptor before its segment's tag has
 * verified, so a flipped bit yields an error, never wrong bytes.
 *
 * **Where the data key lives.** Not in the blob: manifests (object versions
 * and parts) reference byte ranges of blobs through extents, and an extent of
 * an encrypted blob carries a *sealed data key* (see `envelope.ts`): the data
 * key and nonce prefix wrapped with AES-256-GCM under a key-encryption key,
 * together with the blob's plaintext size. Several manifests may reference
 * one blob, each with the data key sealed under its own key-encryption key;
 * that is how copies between encryption settings rewrap keys instead of
 * re-encrypting data. Extent offsets and lengths are always in plaintext terms.
 *
 * The segment size and this layout are fixed for version 1; a new layout
 * would come with a new version tag in the sealed data key.
 */
export const SEGMENT_SIZE = 64 * 1024;
export const TAG_SIZE = 16;
export const STORED_SEGMENT_SIZE = SEGMENT_SIZE + TAG_SIZE;
export const DATA_KEY_SIZE = 32;
export const NONCE_PREFIX_SIZE = 4;

/** A blob's secret: its AES-256 data key and the prefix of its segment nonces. */
export interface DataKey {
  key: Buffer;
  prefix: Buffer;
}

export function newDataKey(): DataKey {
  const b = randomBytes(DATA_KEY_SIZE + NONCE_PREFIX_SIZE);
  return { key: b.subarray(0, DATA_KEY_SIZE), prefix: b.subarray(DATA_KEY_SIZE) };
}

/** Stored size of a blob holding `plainSize` bytes. */
export function storedSize(plainSize: number): number {
  return plainSize + Math.ceil(plainSize / SEGMENT_SIZE) * TAG_SIZE;
}

/** Plaintext length of segment `index` of a blob of `plainSize` bytes. */
export function segmentLength(plainSize: number, index: number): number {
  return Math.max(0, Math.min(SEGMENT_SIZE, plainSize - index * SEGMENT_SIZE));
}

function segmentNonce(prefix: Buffer, index: number): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeBigUInt64BE(BigInt(index), 4);
  return n;
}

/** The per-blob part of the segment AAD; the segment index is appended per segment. */
export function segmentAadPrefix(blobId: string): Buffer {
  return Buffer.from(`tessera/seg/v1\0${blobId}\0`, 'utf8');
}

function segmentAad(aadPrefix: Buffer, index: number): Buffer {
  const idx = Buffer.alloc(8);
  idx.writeBigUInt64BE(BigInt(index));
  return Buffer.concat([aadPrefix, idx]);
}

export function segmentCipher(dk: DataKey, aadPrefix: Buffer, index: number): CipherGCM {
  const c = createCipheriv('aes-256-gcm', dk.key, segmentNonce(dk.prefix, index));
  c.setAAD(segmentAad(aadPrefix, index));
  return c;
}

/** Raised when stored bytes fail authentication (tampering, corruption, wrong key). */
export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}

/**
 * Decrypts one stored segment (ciphertext || tag) and returns its plaintext,
 * or throws IntegrityError: nothing is returned unless the tag verifies.
 */
export function openSegment(dk: DataKey, aadPrefix: Buffer, index: number, stored: Buffer): Buffer {
  if (stored.length < TAG_SIZE) throw new IntegrityError(`encrypted segment ${index} is truncated`);
  const cut = stored.length - TAG_SIZE;
  const d: DecipherGCM = createDecipheriv('aes-256-gcm', dk.key, segmentNonce(dk.prefix, index));
  d.setAAD(segmentAad(aadPrefix, index));
  d.setAuthTag(stored.subarray(cut));
  const out = d.update(stored.subarray(0, cut));
  try {
    d.final();
  } catch {
    throw new IntegrityError(`encrypted segment ${index} failed authentication`);
  }
  return out;
}
