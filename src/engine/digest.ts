/**
 * The MD5 and flexible checksum of copied bytes (UploadPartCopy, CopyObject:
 * api/copy.ts), with as little reading as the stored blobs allow:
 *
 * - the MD5 of exactly one whole blob is its stored MD5;
 * - the CRC64NVME of any range of plaintext file blobs derives from their
 *   CRC-64/NVME prefix checkpoints (util/crc-checkpoints.ts) plus the
 *   unaligned head and tail of each extent (under 1 MiB each), and of an
 *   inline blob from its bytes at hand;
 * - whatever is still missing takes one read pass, done by a hashing thread
 *   that reads the blob files itself (util/hash-pool.ts) so that no byte
 *   crosses the event loop; encrypted or inline extents are read here.
 *
 * A blob that vanished while being read (collected after its last reference
 * went) reads as BlobGone, which makes the copy resolve its source again.
 */
import type { EngineDeps, SseReadKeys } from './deps.js';
import { BlobGone, type BlobRow, type Extent } from '../meta/types.js';
import { combineCrc, type ChecksumAlgorithm } from '../util/checksum.js';
import { createFastCrc64 } from '../util/crc64nvme-wasm.js';
import { planRange, rangeCrc, validCheckpoints } from '../util/crc-checkpoints.js';
import type { FileSegment, FileSpan } from '../util/hash-pool.js';
import { MultiHash, type HashAlgorithm, type HashResult } from '../util/multi-hash.js';
import { isInline } from './blob-ids.js';
import { forEachChunk } from './read.js';

/** What a digest pass yields. */
export interface Digest {
  /** hex MD5 */
  md5?: string;
  /** base64 checksum in the requested algorithm */
  checksum?: string;
}

const EMPTY_CRC: Buffer = Buffer.alloc(8);

/** The blob rows of the extents' plaintext blobs, by id (encrypted extents need none). */
async function rowsOf(deps: EngineDeps, extents: Extent[]): Promise<Map<string, BlobRow | undefined>> {
  const ids = [...new Set(extents.filter((e) => !e.dk).map((e) => e.blob))];
  const rows = await Promise.all(ids.map((id) => deps.meta.getBlob(id)));
  return new Map(ids.map((id, i) => [id, rows[i]]));
}

/** The file segments the extents name, when every one is a plaintext blob file the pool can read. */
function segmentsOf(deps: EngineDeps, extents: Extent[]): FileSegment[] | undefined {
  const path = deps.blobs.filePath?.bind(deps.blobs);
  if (!path || extents.some((e) => e.dk || isInline(e.blob))) return undefined;
  return extents.filter((e) => e.len > 0).map((e) => ({ path: path(e.blob), start: e.off, end: e.off + e.len }));
}

/** One read pass over the extents for `algs`: in a hashing thread when it can read them, else here. */
async function readPass(deps: EngineDeps, extents: Extent[], algs: HashAlgorithm[], keys?: SseReadKeys): Promise<HashResult> {
  const segments = segmentsOf(deps, extents);
  const pooled = segments && (await deps.hashPool.file(segments, algs));
  if (pooled) return pooled;
  const h = new MultiHash(algs, false);
  await forEachChunk(deps, extents, (chunk) => h.update(chunk), keys);
  return h.finish();
}

/** Whether every extent's CRC-64/NVME can come from checkpoints or inline bytes. */
function derivable(extents: Extent[], rows: Map<string, BlobRow | undefined>): boolean {
  return extents.every((e) => {
    const row = rows.get(e.blob);
    return !e.dk && row !== undefined && (row.inline !== undefined || validCheckpoints(row.crc64nvme, row.size));
  });
}

/** The CRC-64/NVME of the extents (all derivable) from checkpoints, reading only unaligned heads and tails. */
async function derivedCrc64(deps: EngineDeps, extents: Extent[], rows: Map<string, BlobRow | undefined>): Promise<Buffer> {
  const crcs = await Promise.all(extents.map(async (e) => {
    const row = rows.get(e.blob)!;
    if (row.inline) {
      const c = createFastCrc64();
      c.update(row.inline.subarray(e.off, e.off + e.len));
      return c.digest();
    }
    const plan = planRange(row.size, e.off, e.off + e.len);
    const crcOf = async ([s, end]: [number, number]) => {
      if (s === end) return EMPTY_CRC;
      return (await readPass(deps, [{ blob: e.blob, off: s, len: end - s }], ['CRC64NVME'])).digests.CRC64NVME!;
    };
    const [head, tail] = await Promise.all([crcOf(plan.head), crcOf(plan.tail)]);
    return rangeCrc(row.crc64nvme!, row.size, plan, head, tail);
  }));
  return crcs.reduce((acc, c, i) => combineCrc('CRC64NVME', acc, c, extents[i].len), EMPTY_CRC);
}

/**
 * One pooled pass over plaintext file extents that all have checkpoints:
 * the MD5 over everything when asked, and the CRC-64/NVME of each extent's
 * unaligned head and tail on the way (only those are read without an MD5).
 * Undefined when the pool cannot run.
 */
async function pooledWithCrc(
  deps: EngineDeps, extents: Extent[], segments: FileSegment[], rows: Map<string, BlobRow | undefined>, md5: boolean,
): Promise<{ md5?: Buffer; crc: Buffer } | undefined> {
  const live = extents.filter((e) => e.len > 0);
  const plans = live.map((e) => planRange(rows.get(e.blob)!.size, e.off, e.off + e.len));
  const spans: FileSpan[] = [];
  plans.forEach((p, segment) => {
    for (const [start, end] of [p.head, p.tail]) if (start < end) spans.push({ segment, start, end });
  });
  const r = await deps.hashPool.file(segments, md5 ? ['MD5'] : [], spans);
  if (!r) return undefined;
  let next = 0;
  const spanCrc = ([start, end]: [number, number]) => (start < end ? r.spans[next++] : EMPTY_CRC);
  let crc = EMPTY_CRC;
  plans.forEach((p, i) => {
    const row = rows.get(live[i].blob)!;
    const head = spanCrc(p.head);
    const tail = spanCrc(p.tail);
    crc = combineCrc('CRC64NVME', crc, rangeCrc(row.crc64nvme!, row.size, p, head, tail), live[i].len);
  });
  return { md5: r.digests.MD5, crc };
}

/**
 * The MD5 and/or a checksum of the bytes `extents` name, reading at most
 * once and only what stored digests cannot give; encrypted extents are read
 * with `keys`.
 */
export async function digestExtents(
  deps: EngineDeps, extents: Extent[], want: { md5: boolean; algorithm?: ChecksumAlgorithm }, keys?: SseReadKeys,
): Promise<Digest> {
  if (!want.md5 && !want.algorithm) return {};
  try {
    const rows = await rowsOf(deps, extents);
    let md5: string | undefined;
    const only = extents.length === 1 ? rows.get(extents[0].blob) : undefined;
    if (want.md5 && only?.md5 && !extents[0].dk && extents[0].off === 0 && only.size === extents[0].len) md5 = only.md5;
    const needMd5 = want.md5 && md5 === undefined;
    const derive = want.algorithm === 'CRC64NVME' && derivable(extents, rows);
    const segments = segmentsOf(deps, extents);
    if (derive && segments) {
      // Plaintext files with checkpoints: one pass in a thread, or none beyond heads and tails.
      const r = await pooledWithCrc(deps, extents, segments, rows, needMd5);
      if (r) return { md5: want.md5 ? md5 ?? r.md5!.toString('hex') : undefined, checksum: r.crc.toString('base64') };
    } else if (derive && !needMd5) {
      return { md5, checksum: (await derivedCrc64(deps, extents, rows)).toString('base64') };
    }
    const algs: HashAlgorithm[] = [];
    if (needMd5) algs.push('MD5');
    if (want.algorithm) algs.push(want.algorithm);
    const read = await readPass(deps, extents, algs, keys);
    return { md5: want.md5 ? md5 ?? read.digests.MD5!.toString('hex') : undefined, checksum: want.algorithm ? read.digests[want.algorithm]!.toString('base64') : undefined };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // A file that went; an inline blob that went is BlobGone already (blob-ids.ts).
    if (err.code === 'ENOENT') throw new BlobGone(extents[0]?.blob ?? '');
    throw e;
  }
}
