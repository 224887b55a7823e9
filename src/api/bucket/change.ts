import { bucketOf, type RequestContext } from '../context.js';
import type { MetaStore } from '../../meta/types.js';

/**
 * Changes the request's bucket (sub-resource configuration, versioning) only
 * if it is still the bucket the request was authorized against: one deleted
 * meanwhile, or deleted and created again by anyone, is left alone and the
 * request fails with NoSuchBucket (BucketGone, checked in the store's transaction).
 */
export async function changeBucket(ctx: RequestContext, patch: Parameters<MetaStore['updateBucket']>[1]): Promise<void> {
  const b = bucketOf(ctx);
  await ctx.deps.meta.updateBucket(b.name, patch, b.id);
}
