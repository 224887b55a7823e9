import type { BlobWriter } from '../../blob/types.js';
import type { RequestContext } from '../context.js';
import type { Extent, NewBlob } from '../../meta/types.js';
import { rewrapDataKey } from '../../crypto/envelope.js';
import { SOURCE_PREFIX } from '../../crypto/ssec.js';
import type { ResolvedSource } from '../copy/source.js';
import { newInlineId } from '../../engine/blob-ids.js';
import { readManifest } from '../../engine/read.js';
import { EncryptingBlobWriter, kekForSeal, sealInline } from '../../engine/encrypted.js';
import { readSse, sseOf, type SseMeta, type SseReadKeys, type WriteSse } from './sse.js';

/**
 * Encryption across UploadPartCopy and CopyObject. A copy never decrypts and
 * re-encrypts data it can reference: each encrypted source extent keeps its
 * blob, and its sealed data key is opened with the source's key and sealed
 * again for the destination (SSE-C key, master key or keyring key). An
 * unencrypted destination keeps encrypted extents encrypted, sealed under the
 * master key, and reads them transparently. Only plaintext extents copied
 * into an encrypted destination are written again, encrypted: there is no
 * data key to rewrap. The copy's MD5, when its ETag needs one, comes from one
 * decrypting read pass; SSE-C and SSE-KMS destinations need none.
 */

/** The source's encryption checked against the copy-source SSE-C triad; the keys that read it. */
export function copySourceKeys(ctx: RequestContext, s: ResolvedSource): SseReadKeys {
  return readSse(ctx, sseOf(s.meta), { prefix: SOURCE_PREFIX, body: true }).keys;
}

/** True when this encryption's ETags are not MD5s of the data (SSE-C, SSE-KMS). */
export function hidesMd5(sse: SseMeta | undefined): boolean {
  return sse !== undefined && sse.type !== 'AES256';
}

/**
 * CopyObject's destination encryption: what the request or the bucket asks
 * for; without either, an encrypted source becomes SSE-S3, as AWS answers
 * (recorded: copy-obj-sse-c-target-no-sse-c).
 */
export function copyObjectSse(ctx: RequestContext, requested: WriteSse | undefined, s: ResolvedSource): WriteSse | undefined {
  if (requested) return requested;
  if (!sseOf(s.meta) && !s.v.manifest.some((e) => e.dk)) return undefined;
  return { meta: { type: 'AES256' }, kek: ctx.deps.sseKeys.masterKek() };
}

export interface CopiedExtents {
  manifest: Extent[];
  newBlobs: NewBlob[];
  /** Removes blobs written for this copy when its metadata commit fails. */
  discard(): Promise<void>;
  /** Once the commit is decided: the blob store stops keeping the reaper off those blobs. */
  release(): void;
}

/** The destination's extents for copied source extents (see the module comment). */
export async function copyExtents(ctx: RequestContext, extents: Extent[], keys: SseReadKeys, dest: WriteSse | undefined): Promise<CopiedExtents> {
  if (!dest && !extents.some((e) => e.dk)) return { manifest: extents, newBlobs: [], discard: async () => {}, release: () => {} };
  const to = dest?.kek ?? ctx.deps.sseKeys.masterKek();
  const manifest: Extent[] = [];
  const newBlobs: NewBlob[] = [];
  const files: BlobWriter[] = [];
  const release = () => {
    for (const w of files) w.release();
  };
  const discard = async () => {
    for (const w of files) await ctx.deps.blobs.remove(w.id);
    release();
  };
  try {
    for (const e of extents) {
      if (e.dk) {
        const same = to.kind === 's' && e.dk.startsWith('1.s.');
        manifest.push(same ? e : { ...e, dk: rewrapDataKey(e.dk, e.blob, kekForSeal(ctx.deps, e.dk, keys), to) });
      } else if (!dest) {
        manifest.push(e);
      } else {
        const fresh = await encryptExtent(ctx, e, dest);
        if (fresh.writer) files.push(fresh.writer);
        manifest.push(...fresh.manifest);
        newBlobs.push(...fresh.newBlobs);
      }
    }
  } catch (err) {
    await discard();
    throw err;
  }
  return { manifest, newBlobs, discard, release };
}

/** A plaintext extent written again as a new encrypted blob (inline when small; else with its writer, to release). */
async function encryptExtent(ctx: RequestContext, e: Extent, dest: WriteSse): Promise<{ manifest: Extent[]; newBlobs: NewBlob[]; writer?: BlobWriter }> {
  const { deps } = ctx;
  const body = readManifest(deps, [e], 0, e.len);
  if (e.len <= deps.config.inlineThreshold) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    return sealInline(newInlineId(), Buffer.concat(chunks), dest.kek);
  }
  const w = new EncryptingBlobWriter(await deps.blobs.create(), dest.kek);
  try {
    for await (const c of body) await w.write(c as Buffer);
    await w.commit();
  } catch (err) {
    await w.abort();
    throw err;
  }
  return { ...w.sealed(), writer: w };
}
