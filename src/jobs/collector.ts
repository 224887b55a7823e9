import type { BlobStore } from '../blob/types.js';
import type { MetaStore } from '../meta/types.js';
import { isInline } from '../engine/blob-ids.js';

/**
 * The blob collector. Blobs whose reference count has been zero for longer
 * than the grace period are removed from metadata (in a transaction, so a
 * concurrent copy that re-references one either wins or fails cleanly) and
 * then unlinked. The reaper pass (reapOrphans) removes blob files that
 * metadata has never heard of.
 */
export async function collectGarbage(meta: MetaStore, blobs: BlobStore, graceMs: number, now = Date.now()): Promise<number> {
  let removed = 0;
  for (;;) {
    const batch = await meta.takeGarbage(now - graceMs, 500);
    for (const b of batch) {
      if (!isInline(b.id)) await blobs.remove(b.id);
      removed++;
    }
    if (batch.length < 500) return removed;
  }
}

/** How long the reaper's tombstones are kept: a write stalled longer than this is caught by its own commit check instead. */
export const TOMBSTONE_KEEP_MS = 24 * 3600_000;

/**
 * Removes blob files that no metadata knows, older than the grace period:
 * what a crash left between writing a blob and committing its manifest.
 * Never one that a live write may still commit: a blob being written by
 * this process is skipped (`writing`), one written by another process sharing
 * the store keeps a fresh modification time (blob/fs.ts), and each candidate
 * is first claimed in the metadata store (`claimOrphans`), which a commit of
 * the same blob, on any gateway, either beats (then it is known, and kept) or
 * loses (then that write fails, with nothing acknowledged).
 */
export async function reapOrphans(meta: MetaStore, blobs: BlobStore, graceMs: number, now = Date.now()): Promise<number> {
  let removed = 0;
  let pending: string[] = [];
  const flush = async () => {
    const known = await meta.knownBlobs(pending);
    const claimed = await meta.claimOrphans(pending.filter((id) => !known.has(id) && !blobs.writing(id)), now);
    for (const id of claimed) {
      await blobs.remove(id);
      removed++;
    }
    pending = [];
  };
  for await (const f of blobs.list()) {
    if (f.mtimeMs > now - graceMs || blobs.writing(f.id)) continue;
    pending.push(f.id);
    if (pending.length >= 500) await flush();
  }
  await flush();
  await meta.pruneTombstones(now - Math.max(TOMBSTONE_KEEP_MS, 10 * graceMs));
  return removed;
}
