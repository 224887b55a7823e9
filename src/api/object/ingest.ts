import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobWriter } from '../../blob/types.js';
import { S3Error } from '../../errors.js';
import type { Deps, RequestContext } from '../context.js';
import type { Extent, NewBlob } from '../../meta/types.js';
import {
  CHECKSUM_ALGORITHMS, checksumHeader, isValidChecksumValue, parseChecksumAlgorithm, type ChecksumAlgorithm,
} from '../../util/checksum.js';
import type { FollowJob } from '../../util/hash-pool.js';
import { MultiHash, type HashAlgorithm, type HashResult } from '../../util/multi-hash.js';
import type { Kek } from '../../crypto/envelope.js';
import { EncryptingBlobWriter, createBlobWriter, sealInline } from '../../engine/encrypted.js';

export const MAX_OBJECT_SIZE = 5 * 1024 ** 3;

/** What a body became: its bytes stored as one blob (inline or file) and its digests. */
export interface Ingested {
  size: number;
  md5: Buffer;
  manifest: Extent[];
  newBlobs: NewBlob[];
  /** The flexible checksum the client asked for (header or trailer), verified. */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  /** A second checksum computed in the same pass when `opts.extra` asked for one (never verified). */
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

/** Which flexible checksum a request carries: a value in a header, or an algorithm whose value trails the body. */
export interface ChecksumRequest {
  algorithm: ChecksumAlgorithm;
  /** The expected base64 value when it came as a header. */
  expected?: string;
}

/**
 * Reads the checksum headers of an upload: at most one `x-amz-checksum-*`
 * value, or a trailer announced by `x-amz-trailer`, or only
 * `x-amz-sdk-checksum-algorithm` (then Tessera computes that algorithm).
 */
export function checksumRequest(ctx: RequestContext): ChecksumRequest | undefined {
  const present = CHECKSUM_ALGORITHMS.filter((a) => ctx.headers[checksumHeader(a)] !== undefined);
  if (present.length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  if (present.length === 1) {
    const algorithm = present[0];
    const expected = String(ctx.headers[checksumHeader(algorithm)]);
    if (!isValidChecksumValue(algorithm, expected)) throw new S3Error('InvalidRequest', `Value for ${checksumHeader(algorithm)} header is invalid.`);
    return { algorithm, expected };
  }
  const trailer = ctx.headers['x-amz-trailer'];
  if (typeof trailer === 'string' && trailer.toLowerCase().startsWith('x-amz-checksum-')) {
    const algorithm = parseChecksumAlgorithm(trailer.toLowerCase().slice('x-amz-checksum-'.length));
    if (!algorithm) throw new S3Error('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported');
    return { algorithm };
  }
  const sdk = ctx.headers['x-amz-sdk-checksum-algorithm'];
  if (typeof sdk === 'string') {
    const algorithm = parseChecksumAlgorithm(sdk);
    if (!algorithm) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]');
    return { algorithm };
  }
  return undefined;
}

/** Validates Content-MD5 (base64 of 16 bytes) and returns it, or undefined. */
export function contentMd5(ctx: RequestContext): Buffer | undefined {
  const v = ctx.headers['content-md5'];
  if (v === undefined) return undefined;
  const b = Buffer.from(String(v), 'base64');
  if (b.length !== 16 || b.toString('base64') !== String(v).trim()) throw new S3Error('InvalidDigest', undefined, { 'Content-MD5': String(v) });
  return b;
}

/** The body's length as the client declared it (decoded length for aws-chunked), or undefined. */
export function declaredLength(ctx: RequestContext): number | undefined {
  const raw = ctx.headers['x-amz-decoded-content-length'] ?? ctx.headers['content-length'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new S3Error('InvalidArgument', 'Invalid Content-Length');
  return n;
}

/**
 * Streams the request body into storage: small bodies become an inline blob
 * in the metadata row, larger ones a blob file written and synced as it
 * arrives. MD5 and the requested checksum are computed in the same pass (for
 * a blob file on the hashing threads, util/hash-pool.ts, with the CRC-64/NVME
 * prefix checkpoints that let copies derive range checksums) and verified
 * before anything is referenced; on any failure nothing is left.
 * With `encryption` (a KEK, api/sse.ts) the stored bytes are encrypted as they
 * stream (crypto/format.ts); sizes, digests and extents stay in plaintext terms.
 */
export async function ingest(ctx: RequestContext, opts: { maxSize: number; checksum?: ChecksumRequest; extra?: ChecksumAlgorithm; encryption?: Kek }): Promise<Ingested> {
  const declared = declaredLength(ctx);
  if (declared === undefined && ctx.headers['transfer-encoding'] === undefined) throw new S3Error('MissingContentLength');
  if (declared !== undefined && declared > opts.maxSize) {
    throw new S3Error('EntityTooLarge', undefined, { ProposedSize: declared, MaxSizeAllowed: opts.maxSize });
  }
  const md5Expected = contentMd5(ctx);
  const body = ctx.body();
  const result = await store(ctx, body, declared, opts.maxSize, opts.checksum, opts.extra, opts.encryption);
  try {
    if (md5Expected && !md5Expected.equals(result.md5)) {
      throw new S3Error('BadDigest', undefined, { ExpectedDigest: md5Expected.toString('hex'), CalculatedDigest: result.md5.toString('base64') });
    }
    if (opts.checksum) verifyChecksum(opts.checksum, result.checksum!.value, body.trailers);
  } catch (e) {
    await result.discard();
    throw e;
  }
  ctx.bytesIn = result.size;
  return result;
}

function verifyChecksum(req: ChecksumRequest, computed: string, trailers: Record<string, string>): void {
  const expected = req.expected ?? trailers[checksumHeader(req.algorithm)];
  if (expected === undefined) return; // algorithm named without a value: computed and stored
  if (req.expected === undefined && !isValidChecksumValue(req.algorithm, expected)) {
    throw new S3Error('InvalidRequest', `Value for ${checksumHeader(req.algorithm)} trailing header is invalid.`);
  }
  if (expected !== computed) throw new S3Error('BadDigest', `The ${req.algorithm} you specified did not match the calculated checksum.`);
}

/** The algorithms a body is hashed with: MD5 always, the requested checksum and the extra one. */
function algorithmsOf(checksum?: ChecksumRequest, extra?: ChecksumAlgorithm): HashAlgorithm[] {
  const algs: HashAlgorithm[] = ['MD5'];
  if (checksum) algs.push(checksum.algorithm);
  if (extra && extra !== checksum?.algorithm) algs.push(extra);
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

  static async open(deps: Deps, algs: HashAlgorithm[], kek: Kek | undefined, declared: number | undefined): Promise<FileOutput> {
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

async function store(ctx: RequestContext, body: Readable, declared: number | undefined, maxSize: number, checksum?: ChecksumRequest, extraAlg?: ChecksumAlgorithm, kek?: Kek): Promise<Ingested> {
  const { config } = ctx.deps;
  const algs = algorithmsOf(checksum, extraAlg);
  const small: Buffer[] = [];
  let size = 0;
  let out = declared !== undefined && declared > config.inlineThreshold ? await FileOutput.open(ctx.deps, algs, kek, declared) : undefined;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxSize) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: size, MaxSizeAllowed: maxSize });
      if (out) {
        await out.write(chunk);
      } else {
        small.push(chunk);
        if (size > config.inlineThreshold) {
          out = await FileOutput.open(ctx.deps, algs, kek, declared);
          for (const b of small.splice(0)) await out.write(b);
        }
      }
    }
    if (declared !== undefined && size !== declared) throw new S3Error('IncompleteBody');
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
    const check = checksum ? value(checksum.algorithm) : undefined;
    const extra = extraAlg ? value(extraAlg) : undefined;
    if (!out) {
      const id = 'i' + randomBytes(15).toString('hex');
      const data = Buffer.concat(small, size);
      const nothing = { discard: async () => {}, release: nothingToRelease };
      if (kek && size) return { size, md5: digest, ...sealInline(id, data, kek), checksum: check, extra, ...nothing };
      const blob: NewBlob = { id, size, md5: digest.toString('hex'), inline: data };
      return { size, md5: digest, manifest: size ? [{ blob: id, off: 0, len: size }] : [], newBlobs: size ? [blob] : [], checksum: check, extra, ...nothing };
    }
    const w = out.writer;
    const file = {
      discard: async () => {
        await ctx.deps.blobs.remove(w.id);
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
    if (!(e instanceof S3Error) && (ctx.signal.aborted || (e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as Error).message === 'aborted')) {
      throw new S3Error('IncompleteBody');
    }
    throw e;
  }
}
