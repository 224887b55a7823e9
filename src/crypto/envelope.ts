import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { DATA_KEY_SIZE, IntegrityError, NONCE_PREFIX_SIZE, type DataKey } from './format.js';

/**
 * # Sealed data keys
 *
 * A blob's data key (see `format.ts`) is stored *sealed* under a
 * key-encryption key (KEK), in the extent of each manifest that references
 * the blob. There are three kinds of KEK:
 *
 * - `c`, SSE-C: derived from the customer's key, which the client sends with
 *   every request and Tessera never stores;
 * - `s`, SSE-S3: derived from the server master key (`keys.ts`);
 * - `k`, SSE-KMS: derived from a key of the local keyring, named by its id;
 *   the request's encryption context is bound to the seal.
 *
 * Each KEK is HKDF-SHA256(secret, info = `tessera/kek/v1/<kind>`), so the same
 * secret never serves two purposes. A sealed key is the string
 *
 *     1.<kind>.<keyring key id or empty>.<plaintext size>.<base64url payload>
 *
 * where payload = random 12-byte nonce || AES-256-GCM(KEK, data key || nonce
 * prefix) || 16-byte tag, with additional authenticated data
 * `tessera/dk/v1`, NUL, kind, NUL, key id, NUL, blob id, NUL, plaintext size,
 * NUL, SHA-256 of the encryption context. The seal therefore cannot be moved
 * to another blob, nor its size or key id altered, nor (for SSE-KMS) opened
 * under another encryption context. Rewrapping opens a seal and seals the same
 * data key under another KEK: no data is touched.
 */
export type KekKind = 'c' | 's' | 'k';

/** A key-encryption key, ready to seal and open data keys. */
export interface Kek {
  kind: KekKind;
  /** Keyring key id (kind `k`). */
  keyId?: string;
  /** SSE-KMS encryption context bound to seals (kind `k`). */
  context?: string;
  /** The derived AES-256 wrapping key. */
  key: Buffer;
}

export function deriveKek(kind: KekKind, secret: Buffer, opts: { keyId?: string; context?: string } = {}): Kek {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `tessera/kek/v1/${kind}`, 32));
  return { kind, key, keyId: opts.keyId, context: opts.context };
}

export interface SealedInfo {
  kind: KekKind;
  keyId: string;
  plainSize: number;
  payload: Buffer;
}

const WRAP_NONCE = 12;
const WRAP_TAG = 16;
const PAYLOAD_SIZE = WRAP_NONCE + DATA_KEY_SIZE + NONCE_PREFIX_SIZE + WRAP_TAG;

/** Splits a sealed key into its fields; throws IntegrityError when it is not one. */
export function parseSealed(sealed: string): SealedInfo {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== '1' || !['c', 's', 'k'].includes(parts[1])) throw new IntegrityError('not a sealed data key');
  const plainSize = Number(parts[3]);
  const payload = Buffer.from(parts[4], 'base64url');
  if (!Number.isSafeInteger(plainSize) || plainSize < 0 || payload.length !== PAYLOAD_SIZE) throw new IntegrityError('malformed sealed data key');
  return { kind: parts[1] as KekKind, keyId: parts[2], plainSize, payload };
}

function sealAad(kind: KekKind, keyId: string, blobId: string, plainSize: number, context: string | undefined): Buffer {
  const ctx = createHash('sha256').update(context ?? '').digest('hex');
  return Buffer.from(`tessera/dk/v1\0${kind}\0${keyId}\0${blobId}\0${plainSize}\0${ctx}`, 'utf8');
}

/** Seals a blob's data key under a KEK. */
export function sealDataKey(dk: DataKey, kek: Kek, blobId: string, plainSize: number): string {
  const keyId = kek.kind === 'k' ? (kek.keyId ?? '') : '';
  if (keyId.includes('.')) throw new Error('keyring key ids may not contain dots');
  const nonce = randomBytes(WRAP_NONCE);
  const c = createCipheriv('aes-256-gcm', kek.key, nonce);
  c.setAAD(sealAad(kek.kind, keyId, blobId, plainSize, kek.kind === 'k' ? kek.context : undefined));
  const body = Buffer.concat([c.update(Buffer.concat([dk.key, dk.prefix])), c.final(), c.getAuthTag()]);
  return `1.${kek.kind}.${keyId}.${plainSize}.${Buffer.concat([nonce, body]).toString('base64url')}`;
}

/**
 * Opens a sealed data key with the KEK it names (the caller resolves kind and
 * key id to a Kek); throws IntegrityError if the KEK is wrong or the seal was
 * altered or moved.
 */
export function openDataKey(sealed: string, blobId: string, kek: Kek): { dk: DataKey; plainSize: number } {
  const info = parseSealed(sealed);
  if (info.kind !== kek.kind) throw new IntegrityError('sealed data key names another kind of key');
  const p = info.payload;
  const d = createDecipheriv('aes-256-gcm', kek.key, p.subarray(0, WRAP_NONCE));
  d.setAAD(sealAad(info.kind, info.keyId, blobId, info.plainSize, info.kind === 'k' ? kek.context : undefined));
  d.setAuthTag(p.subarray(p.length - WRAP_TAG));
  const plain = d.update(p.subarray(WRAP_NONCE, p.length - WRAP_TAG));
  try {
    d.final();
  } catch {
    throw new IntegrityError('sealed data key failed authentication');
  }
  return { dk: { key: plain.subarray(0, DATA_KEY_SIZE), prefix: plain.subarray(DATA_KEY_SIZE) }, plainSize: info.plainSize };
}

/** Opens a seal and seals the same data key under another KEK: a rewrap, no data touched. */
export function rewrapDataKey(sealed: string, blobId: string, from: Kek, to: Kek): string {
  const { dk, plainSize } = openDataKey(sealed, blobId, from);
  return sealDataKey(dk, to, blobId, plainSize);
}
