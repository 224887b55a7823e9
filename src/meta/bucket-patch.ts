import { BucketGone, type BucketRow, type MetaStore, type VersioningState } from './types.js';

export type BucketPatch = Parameters<MetaStore['updateBucket']>[1];

/**
 * Both stores' updateBucket, once: inside the store's transaction, given the
 * bucket row it locked (or none), checks the bucket's identity and returns
 * the versioning state and JSON config to write, or undefined when there is
 * no bucket to change.
 */
export function patchBucket(name: string, row: BucketRow | undefined, patch: BucketPatch, bucketId: string | undefined): { versioning: VersioningState; config: string } | undefined {
  if (bucketId !== undefined && row?.id !== bucketId) throw new BucketGone(name);
  if (!row) return undefined;
  const config = { ...row.config };
  for (const [k, v] of Object.entries(patch.config ?? {})) {
    if (v === undefined) delete config[k];
    else config[k] = v;
  }
  return { versioning: patch.versioning ?? row.versioning, config: JSON.stringify(config) };
}
