import type { BlobStore } from '../blob/types.js';
import type { MetaStore } from '../meta/types.js';
import { isInline } from '../api/read.js';

/**
 * The blob collector. Blobs whose reference count has been zero for longer
 * than the grace period are removed from metadata (in a transaction, so a
 * concurrent copy that re-references one either wins or fails cleanly) and
 * then unlinked. The reaper pass removes blob files that metadata has never
 * heard of and that are older than the grace period: what a crash left
 * between writing a blob and committing its manifest.
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

export async function reapOrphans(meta: MetaStore, blobs: BlobStore, graceMs: number, now = Date.now()): Promise<number> {
  let removed = 0;
  let pending: Array<{ id: string; mtimeMs: number }> = [];
  const flush = async () => {
    const known = await meta.knownBlobs(pending.map((p) => p.id));
    for (const p of pending) {
      if (!known.has(p.id)) {
        await blobs.remove(p.id);
        removed++;
      }
    }
    pending = [];
  };
  for await (const f of blobs.list()) {
    if (f.mtimeMs > now - graceMs) continue;
    pending.push(f);
    if (pending.length >= 500) await flush();
  }
  await flush();
  return removed;
}
