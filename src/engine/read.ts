import { Readable } from 'node:stream';
import type { EngineDeps, SseReadKeys } from './deps.js';
import type { Extent } from '../meta/types.js';
import { inlineBytes, isInline } from './blob-ids.js';
import { decryptExtent } from './encrypted.js';

/** The extents covering bytes [start, end) of a manifest: a slice, no data touched. */
export function sliceManifest(manifest: Extent[], start: number, end: number): Extent[] {
  const out: Extent[] = [];
  let pos = 0;
  for (const e of manifest) {
    const eStart = pos;
    const eEnd = pos + e.len;
    pos = eEnd;
    if (eEnd <= start) continue;
    if (eStart >= end) break;
    const from = Math.max(start, eStart);
    const to = Math.min(end, eEnd);
    // Spread: an encrypted extent's sealed data key (dk) goes with every slice of it.
    out.push({ ...e, off: e.off + (from - eStart), len: to - from });
  }
  return out;
}

async function* extentChunks(deps: EngineDeps, extents: Extent[], keys?: SseReadKeys): AsyncGenerator<Buffer> {
  for (const e of extents) {
    if (e.len === 0) continue;
    if (e.dk) {
      yield* decryptExtent(deps, e, keys);
      continue;
    }
    if (isInline(e.blob)) {
      yield (await inlineBytes(deps.meta, e.blob)).subarray(e.off, e.off + e.len);
      continue;
    }
    for await (const chunk of deps.blobs.read(e.blob, e.off, e.off + e.len)) yield chunk as Buffer;
  }
}

/**
 * Streams bytes [start, end) of an object or part. Encrypted extents are
 * decrypted with `keys` (the request's SSE-C key, the object's KMS context:
 * api/sse.ts `readSse`) and the server's own keys.
 */
export function readManifest(deps: EngineDeps, manifest: Extent[], start: number, end: number, keys?: SseReadKeys): Readable {
  const extents = sliceManifest(manifest, start, end);
  // One plaintext blob file (every single-part object): its own stream, with no generator in between.
  if (extents.length === 1 && !extents[0].dk && !isInline(extents[0].blob)) return deps.blobs.read(extents[0].blob, extents[0].off, extents[0].off + extents[0].len);
  return Readable.from(extentChunks(deps, extents, keys), { objectMode: false });
}

/** Reads extents through a callback, for computing digests of copied ranges without a stream. */
export async function forEachChunk(deps: EngineDeps, extents: Extent[], fn: (chunk: Buffer) => void, keys?: SseReadKeys): Promise<void> {
  for await (const chunk of extentChunks(deps, extents, keys)) fn(chunk);
}

/**
 * Bytes [start, end) as one Buffer when every extent they cover is a
 * plaintext inline blob and they are at most `max` bytes (a small object:
 * its bytes are in the metadata row already, so this holds nothing a stream
 * would not), else undefined.
 */
export async function inlineRange(deps: EngineDeps, manifest: Extent[], start: number, end: number, max: number): Promise<Buffer | undefined> {
  if (end - start > max) return undefined;
  const extents = sliceManifest(manifest, start, end);
  if (extents.some((e) => e.dk !== undefined || !isInline(e.blob))) return undefined;
  const chunks: Buffer[] = [];
  for (const e of extents) if (e.len > 0) chunks.push((await inlineBytes(deps.meta, e.blob)).subarray(e.off, e.off + e.len));
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}
