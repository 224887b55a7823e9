import type { Readable } from 'node:stream';
import type { BlobWriter } from '../blob/types.js';
import type { Kek } from '../crypto/envelope.js';
import type { Extent, NewBlob } from '../meta/types.js';
import type { ChecksumAlgorithm } from '../util/checksum.js';
import type { FollowJob } from '../util/hash-pool.js';
import { MultiHash, type HashAlgorithm, type HashResult } from '../util/multi-hash.js';
import { newInlineId } from './blob-ids.js';
import type { EngineDeps } from './deps.js';
import { EncryptingBlobWriter, createBlobWriter, sealInline } from './encrypted.js';

/**
 * The ingest of a body into storage: small bodies become an inline blob in
 * the metadata row, larger ones a blob file written and synced as it
 * arrives. MD5 and the requested checksums are computed in the same pass
 * (for a blob file on the hashing threads, util/hash-pool.ts, with the
 * CRC-64/NVME prefix checkpoints that let copies derive range checksums). On
 * any failure nothing is left. With `encryption` (a KEK) the stored bytes are
 * encrypted as they stream (crypto/format.ts); sizes, digests and extents
 * stay in plaintext terms. What a request's headers ask for (lengths,
 * Content-MD5, checksum headers and trailers) is api/'s to read and verify.
 */

export interface IngestOptions {
  /** The length the client declared, when it did: the body must be exactly that long. */
  declared?: number;
  maxSize: number;
  /** The checksum to compute (the one the client asked for or sent). */
  checksum?: ChecksumAlgorithm;
  /** A second checksum computed in the same pass. */
  extra?: ChecksumAlgorithm;
  encryption?: Kek;
}

/** The body grew past `maxSize`. */
export class BodyTooLarge extends Error {
  constructor(readonly size: number, readonly maxSize: number) {
    super(`body of more than ${maxSize} bytes`);
  }
}

/** The body ended before its declared length, or ran past it. */
export class BodyIncomplete extends Error {
  constructor() {
    super('body shorter or longer than declared');
  }
}

/** What a body became: its bytes stored as one blob (inline or file) and its digests. */
export interface Ingested {
  size: number;
  md5: Buffer;
  manifest: Extent[];
  newBlobs: NewBlob[];
  /** The checksum computed for `IngestOptions.checksum` (api/ verifies it against what the client sent). */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  /** A second checksum computed in the same pass when `opts.extra` asked for one. */
  extra?: { algorithm: ChecksumAlgorithm; value: string };
  /** Undoes the write when the metadata commit fails. */
  discard(): Promise<void>;
  /** The metadata commit succeeded or the blob was discarded: the blob store stops keeping the reaper off it. */
  release(): void;
}

/** Blobs written for a request, not yet referenced by committed metadata. */
export interface Written {
  discard(): Promise<void>;
  release(): void;
}

/**
 * Runs the metadata commit that references freshly written blobs: if it
 * fails they are removed; either way the blob store stops protecting them
 * from the reaper, which it did from their creation until now.
 */
export async function commitWritten<T>(written: Written, commit: () => Promise<T>): Promise<T> {
  try {
    return await commit();
  } catch (e) {
    await written.discard();
    throw e;
  } finally {
    written.release();
  }
}

const nothingToRelease = () => {};

/** The algorithms a body is hashed with: MD5 always, the requested checksum and the extra one. */
function algorithmsOf(checksum?: ChecksumAlgorithm, extra?: ChecksumAlgorithm): HashAlgorithm[] {
  const algs: HashAlgorithm[] = ['MD5'];
  if (checksum) algs.push(checksum);
  if (extra && extra !== checksum) algs.push(extra);
  return algs;
}

/** Plain bodies from this size on wait for the hashing threads to start rather than hash on the event loop. */
const WAIT_FOR_POOL = 16 << 20;

/**
 * A file blob being written and hashed. A plain blob file is hashed by the
 * pool's threads, which read it back as each write lands (util/hash-pool.ts);
 * an encrypted one (its file holds ciphertext), or any while the threads are
 * not running, is hashed here as chunks come.
 */
class FileOutput {
  constructor(readonly writer: BlobWriter, private readonly hash: FollowJob | MultiHash) {}

  static async open(deps: EngineDeps, algs: HashAlgorithm[], kek: Kek | undefined, declared: number | undefined): Promise<FileOutput> {
    // Checkpoints describe the stored bytes, and an encrypted blob keeps no digest of its plaintext.
    const checkpoints = kek === undefined;
    // A body this large is worth waiting for the threads to start (once per server, well under a second).
    if (!kek && declared !== undefined && declared >= WAIT_FOR_POOL) await deps.hashPool.whenReady();
    const writer = await createBlobWriter(deps.blobs, kek);
    let job: FollowJob | undefined;
    const path = writer.follow?.((written) => job?.grow(written));
    job = path === undefined ? undefined : deps.hashPool.follow(path, algs, checkpoints);
    return new FileOutput(writer, job ?? new MultiHash(algs, checkpoints));
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.hash instanceof MultiHash) this.hash.update(chunk);
    await this.writer.write(chunk);
    if (!(this.hash instanceof MultiHash)) await this.hash.caughtUp();
  }

  /** Digests of the `size` bytes written, and the blob durable (its final sync overlaps the last hashing). */
  async finish(size: number): Promise<HashResult> {
    if (this.hash instanceof MultiHash) {
      await this.writer.commit();
      return this.hash.finish();
    }
    // Both settle before either failure is thrown, so that abort() never races the commit.
    const [digests, committed] = await Promise.allSettled([this.hash.end(size), this.writer.commit()]);
    if (committed.status === 'rejected') throw committed.reason;
    if (digests.status === 'rejected') throw digests.reason;
    return digests.value;
  }

  async abort(): Promise<void> {
    if (!(this.hash instanceof MultiHash)) this.hash.abort();
    await this.writer.abort();
  }
}

export async function ingestBody(deps: EngineDeps, body: Readable, opts: IngestOptions): Promise<Ingested> {
  const { declared, maxSize, checksum, extra: extraAlg, encryption: kek } = opts;
  const { config } = deps;
  const algs = algorithmsOf(checksum, extraAlg);
  const small: Buffer[] = [];
  let size = 0;
  let out = declared !== undefined && declared > config.inlineThreshold ? await FileOutput.open(deps, algs, kek, declared) : undefined;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxSize) throw new BodyTooLarge(size, maxSize);
      if (out) {
        await out.write(chunk);
      } else {
        small.push(chunk);
        if (size > config.inlineThreshold) {
          out = await FileOutput.open(deps, algs, kek, declared);
          for (const b of small.splice(0)) await out.write(b);
        }
      }
    }
    if (declared !== undefined && size !== declared) throw new BodyIncomplete();
    let hashed: HashResult;
    if (out) {
      hashed = await out.finish(size);
    } else {
      // Small bodies hash here: a round trip to a thread would cost more than the hashing.
      const h = new MultiHash(algs, false);
      for (const b of small) h.update(b);
      hashed = h.finish();
    }
    const digest = hashed.digests.MD5!;
    const value = (a: ChecksumAlgorithm) => ({ algorithm: a, value: hashed.digests[a]!.toString('base64') });
    const check = checksum ? value(checksum) : undefined;
    const extra = extraAlg ? value(extraAlg) : undefined;
    if (!out) {
      const id = newInlineId();
      const data = Buffer.concat(small, size);
      const nothing = { discard: async () => {}, release: nothingToRelease };
      if (kek && size) return { size, md5: digest, ...sealInline(id, data, kek), checksum: check, extra, ...nothing };
      const blob: NewBlob = { id, size, md5: digest.toString('hex'), inline: data };
      return { size, md5: digest, manifest: size ? [{ blob: id, off: 0, len: size }] : [], newBlobs: size ? [blob] : [], checksum: check, extra, ...nothing };
    }
    const w = out.writer;
    const file = {
      discard: async () => {
        await deps.blobs.remove(w.id);
        w.release();
      },
      release: () => w.release(),
    };
    if (w instanceof EncryptingBlobWriter) return { size, md5: digest, ...w.sealed(), checksum: check, extra, ...file };
    return {
      size, md5: digest, manifest: [{ blob: w.id, off: 0, len: size }],
      newBlobs: [{ id: w.id, size, md5: digest.toString('hex'), crc64nvme: hashed.checkpoints }],
      checksum: check, extra, ...file,
    };
  } catch (e) {
    await out?.abort();
    throw e;
  }
}
