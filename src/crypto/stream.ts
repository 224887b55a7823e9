import { Transform, type TransformCallback } from 'node:stream';
import { sealDataKey, type Kek } from './envelope.js';
import {
  IntegrityError, SEGMENT_SIZE, STORED_SEGMENT_SIZE, TAG_SIZE, newDataKey, openSegment, segmentAadPrefix, segmentCipher,
  segmentLength, storedSize, type DataKey,
} from './format.js';
import type { CipherGCM } from 'node:crypto';

/**
 * Encrypts one blob as it streams (format in `format.ts`): plaintext goes in
 * by `update`, stored bytes come out, segment by segment, without buffering
 * more than the caller's chunk. `seal` wraps the data key once the blob is
 * complete (its plaintext size is part of the seal).
 */
export class BlobEncryptor {
  readonly dataKey: DataKey = newDataKey();
  private readonly aadPrefix: Buffer;
  private cipher: CipherGCM | undefined;
  private inSegment = 0;
  private index = 0;
  private finished = false;
  plainSize = 0;

  constructor(readonly blobId: string) {
    this.aadPrefix = segmentAadPrefix(blobId);
  }

  /** Encrypts a chunk; returns the stored bytes produced so far (possibly none). */
  update(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (!this.cipher) {
        this.cipher = segmentCipher(this.dataKey, this.aadPrefix, this.index);
        this.inSegment = 0;
      }
      const take = Math.min(SEGMENT_SIZE - this.inSegment, chunk.length - pos);
      out.push(this.cipher.update(chunk.subarray(pos, pos + take)));
      this.inSegment += take;
      pos += take;
      if (this.inSegment === SEGMENT_SIZE) this.closeSegment(out);
    }
    this.plainSize += chunk.length;
    return out;
  }

  /** Ends the blob: returns the last segment's remaining bytes and tag. */
  final(): Buffer[] {
    const out: Buffer[] = [];
    if (this.cipher) this.closeSegment(out);
    this.finished = true;
    return out;
  }

  private closeSegment(out: Buffer[]): void {
    const c = this.cipher!;
    const rest = c.final();
    if (rest.length) out.push(rest);
    out.push(c.getAuthTag());
    this.cipher = undefined;
    this.index++;
  }

  /** The sealed data key for a manifest extent; only after `final`. */
  seal(kek: Kek): string {
    if (!this.finished) throw new Error('seal before final');
    return sealDataKey(this.dataKey, kek, this.blobId, this.plainSize);
  }

  get storedSize(): number {
    return storedSize(this.plainSize);
  }
}

/** A Transform that encrypts a blob's plaintext into its stored form; `encryptor.seal()` after 'end'. */
export function createEncryptStream(blobId: string): { stream: Transform; encryptor: BlobEncryptor } {
  const encryptor = new BlobEncryptor(blobId);
  const stream = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      for (const b of encryptor.update(chunk)) this.push(b);
      cb();
    },
    flush(cb: TransformCallback) {
      for (const b of encryptor.final()) this.push(b);
      cb();
    },
  });
  return { stream, encryptor };
}

/** The stored byte range [start, end) holding plaintext bytes [off, off + len) of a blob, and its first segment. */
export function storedRange(plainSize: number, off: number, len: number): { start: number; end: number; first: number; last: number } {
  if (off < 0 || len <= 0 || off + len > plainSize) throw new RangeError(`range ${off}+${len} outside blob of ${plainSize}`);
  const first = Math.floor(off / SEGMENT_SIZE);
  const last = Math.floor((off + len - 1) / SEGMENT_SIZE);
  const start = first * STORED_SEGMENT_SIZE;
  const end = Math.min(storedSize(plainSize), (last + 1) * STORED_SEGMENT_SIZE);
  return { start, end, first, last };
}

/**
 * Decrypts plaintext bytes [off, off + len) of a blob. `stored` must yield
 * the blob's stored bytes over `storedRange(...)`, in order. Each segment is
 * authenticated before any of its bytes are yielded; a short or altered blob
 * throws IntegrityError.
 */
export async function* decryptRange(
  stored: AsyncIterable<Buffer> | Iterable<Buffer>, dk: DataKey, blobId: string, plainSize: number, off: number, len: number,
): AsyncGenerator<Buffer> {
  const { first, last } = storedRange(plainSize, off, len);
  const aadPrefix = segmentAadPrefix(blobId);
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let index = first;
  const take = (n: number): Buffer => {
    let out: Buffer;
    if (pending[0].length >= n) {
      out = pending[0].subarray(0, n);
      pending[0] = pending[0].subarray(n);
      if (pending[0].length === 0) pending.shift();
    } else {
      const all = Buffer.concat(pending, pendingBytes);
      out = all.subarray(0, n);
      pending.length = 0;
      if (all.length > n) pending.push(all.subarray(n));
    }
    pendingBytes -= n;
    return out;
  };
  const emit = (plain: Buffer): Buffer => {
    const segStart = index * SEGMENT_SIZE;
    const from = Math.max(off, segStart) - segStart;
    const to = Math.min(off + len, segStart + plain.length) - segStart;
    return plain.subarray(from, to);
  };
  for await (const chunk of stored) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (index <= last) {
      const need = segmentLength(plainSize, index) + TAG_SIZE;
      if (pendingBytes < need) break;
      const plain = openSegment(dk, aadPrefix, index, take(need));
      yield emit(plain);
      index++;
    }
    if (index > last) return;
  }
  if (index <= last) throw new IntegrityError(`encrypted blob ${blobId} is shorter than its recorded size`);
}
