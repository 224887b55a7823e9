import { Readable } from 'node:stream';
import type { BlobStore, BlobWriter } from '../blob/types.js';
import type { EngineDeps, SseReadKeys } from './deps.js';
import type { Extent, NewBlob } from '../meta/types.js';
import { deriveKek, openDataKey, parseSealed, type Kek } from '../crypto/envelope.js';
import { IntegrityError } from '../crypto/format.js';
import { BlobEncryptor, decryptRange, storedRange } from '../crypto/stream.js';
import { inlineBytes, isInline } from './blob-ids.js';

/**
 * Encrypted blobs in the blob and metadata stores (format: `crypto/format.ts`).
 * An encrypted blob's row records its stored size and no MD5 (a digest of
 * the plaintext is not kept at rest, and the stored bytes' digest is of no
 * use to copies); its extents carry the sealed data key in `dk` and keep
 * offsets and lengths in plaintext terms.
 */

/** A BlobWriter that encrypts what it is given and writes the stored form to an inner writer. */
export class EncryptingBlobWriter implements BlobWriter {
  private readonly enc: BlobEncryptor;

  constructor(private readonly inner: BlobWriter, private readonly kek: Kek) {
    this.enc = new BlobEncryptor(inner.id);
  }

  get id(): string {
    return this.inner.id;
  }

  async write(chunk: Buffer): Promise<void> {
    for (const b of this.enc.update(chunk)) if (b.length) await this.inner.write(b);
  }

  async commit(): Promise<number> {
    for (const b of this.enc.final()) if (b.length) await this.inner.write(b);
    return this.inner.commit();
  }

  abort(): Promise<void> {
    return this.inner.abort();
  }

  release(): void {
    this.inner.release();
  }

  /** After commit: the blob's extent (plaintext terms, sealed data key) and its row. */
  sealed(): { manifest: Extent[]; newBlobs: NewBlob[] } {
    const size = this.enc.plainSize;
    return { manifest: [{ blob: this.id, off: 0, len: size, dk: this.enc.seal(this.kek) }], newBlobs: [{ id: this.id, size: this.enc.storedSize }] };
  }
}

/** A new blob writer, encrypting when a KEK is given. */
export async function createBlobWriter(blobs: BlobStore, kek: Kek | undefined): Promise<BlobWriter> {
  const w = await blobs.create();
  return kek ? new EncryptingBlobWriter(w, kek) : w;
}

/** An inline blob of encrypted `data` under a new data key sealed by `kek`. */
export function sealInline(id: string, data: Buffer, kek: Kek): { manifest: Extent[]; newBlobs: NewBlob[] } {
  const enc = new BlobEncryptor(id);
  const stored = Buffer.concat([...enc.update(data), ...enc.final()]);
  return { manifest: [{ blob: id, off: 0, len: data.length, dk: enc.seal(kek) }], newBlobs: [{ id, size: stored.length, inline: stored }] };
}

/** The KEK a sealed data key names, from the server's keys or the request's customer key. */
export function kekForSeal(deps: EngineDeps, sealed: string, keys: SseReadKeys | undefined): Kek {
  const info = parseSealed(sealed);
  if (info.kind === 's') return deps.sseKeys.masterKek();
  if (info.kind === 'c') {
    if (!keys?.customer) throw new IntegrityError('an SSE-C extent was read without the customer key');
    return deriveKek('c', keys.customer);
  }
  const entry = deps.sseKeys.kmsKey(info.keyId);
  if (!entry) throw new IntegrityError(`keyring key ${info.keyId} is missing`);
  return deps.sseKeys.kmsKek(entry, keys?.context);
}

/** Plaintext bytes of one encrypted extent, reading and authenticating only the segments it covers. */
export async function* decryptExtent(deps: EngineDeps, e: Extent, keys: SseReadKeys | undefined): AsyncGenerator<Buffer> {
  const { dk, plainSize } = openDataKey(e.dk!, e.blob, kekForSeal(deps, e.dk!, keys));
  const r = storedRange(plainSize, e.off, e.len);
  let stored: AsyncIterable<Buffer> | Buffer[];
  if (isInline(e.blob)) {
    stored = [(await inlineBytes(deps.meta, e.blob)).subarray(r.start, r.end)];
  } else {
    stored = deps.blobs.read(e.blob, r.start, r.end) as AsyncIterable<Buffer>;
  }
  yield* decryptRange(stored, dk, e.blob, plainSize, e.off, e.len);
}

/**
 * Reads a stream's first chunk before handing it on, so that a failure there
 * (an encrypted segment that does not authenticate) becomes an error answer
 * instead of a 200 with a cut body.
 */
export async function primed(body: Readable): Promise<Readable> {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  async function* all(): AsyncGenerator<Buffer> {
    try {
      if (first.done) return;
      yield first.value;
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        yield n.value;
      }
    } finally {
      await it.return?.(); // a client that left early closes the blob read too
    }
  }
  return Readable.from(all(), { objectMode: false });
}
