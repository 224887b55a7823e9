import type { BucketRow, MetaStore, NewBucketRow } from './types.js';

/** How long a cached bucket row is trusted at most (ms). */
export const BUCKET_CACHE_MS = 1000;
/** Buckets remembered at once; past that the oldest entry goes. */
const MAX_ENTRIES = 4096;

/**
 * Bucket rows without a store read per request.
 *
 * Every bucket- and object-level request resolves its bucket (dispatch.ts);
 * the row changes rarely (versioning, policy, CORS, ... and deletion), so
 * this process keeps the rows it read. What keeps answers correct:
 *
 * - A change made through this store (createBucket, updateBucket,
 *   deleteBucket) drops the bucket's entry before the change starts and
 *   again once it has returned, so once the change is acknowledged no
 *   request in this process sees the old row. A read that began before a
 *   drop never fills the cache (epoch), so a slow read cannot put the old
 *   row back.
 * - A row is trusted for at most `maxAgeMs` (BUCKET_CACHE_MS, 1 s) after
 *   the read that produced it began: a change made by another process (a
 *   second gateway over the same PostgreSQL database) is seen here within
 *   that bound. AWS documents the same kind of delay for bucket settings,
 *   e.g. a newly enabled versioning status or a deleted bucket.
 * - Only rows that exist are cached: a bucket created anywhere is found by
 *   the next request.
 * - Cached rows are shared by concurrent requests, so they are frozen
 *   (config included): code that tried to change one in place would throw
 *   rather than change what other requests see.
 */
export class BucketCache {
  private rows = new Map<string, { row: BucketRow; readAt: number }>();
  /** Bumped by every drop: a read that began before one must not fill the cache. */
  private epoch = 0;

  constructor(private readonly meta: MetaStore, private readonly maxAgeMs = BUCKET_CACHE_MS) {}

  async get(name: string): Promise<BucketRow | undefined> {
    const startedAt = performance.now();
    const hit = this.rows.get(name);
    if (hit && startedAt - hit.readAt < this.maxAgeMs) return hit.row;
    const epoch = this.epoch;
    const row = await this.meta.getBucket(name);
    if (epoch !== this.epoch) return row;
    if (!row) {
      this.rows.delete(name);
      return row;
    }
    const frozen = deepFreeze(row);
    this.rows.delete(name);
    if (this.rows.size >= MAX_ENTRIES) this.rows.delete(this.rows.keys().next().value!);
    this.rows.set(name, { row: frozen, readAt: startedAt });
    return frozen;
  }

  /** Runs a change of bucket `name`, dropping its entry before and after. */
  async change<T>(name: string, write: () => Promise<T>): Promise<T> {
    this.drop(name);
    try {
      return await write();
    } finally {
      this.drop(name);
    }
  }

  drop(name: string): void {
    this.epoch++;
    this.rows.delete(name);
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/**
 * `meta` with its bucket reads cached (BucketCache); every other call goes
 * straight to `meta`, unchanged. Give the result to everything that may
 * change a bucket, so that its changes drop the entries.
 */
export function withBucketCache(meta: MetaStore, maxAgeMs = BUCKET_CACHE_MS): MetaStore {
  const cache = new BucketCache(meta, maxAgeMs);
  const own: Partial<Record<keyof MetaStore, unknown>> = {
    getBucket: (name: string) => cache.get(name),
    createBucket: (row: NewBucketRow) => cache.change(row.name, () => meta.createBucket(row)),
    updateBucket: (name: string, patch: Parameters<MetaStore['updateBucket']>[1], bucketId?: string) =>
      cache.change(name, () => meta.updateBucket(name, patch, bucketId)),
    deleteBucket: (name: string) => cache.change(name, () => meta.deleteBucket(name)),
  };
  // Methods of `meta` bound once each (and again if one is replaced, as a test may do to count calls).
  const bound = new Map<PropertyKey, { fn: (...a: unknown[]) => unknown; bound: unknown }>();
  return new Proxy(meta, {
    get(target, prop) {
      if (Object.hasOwn(own, prop)) return own[prop as keyof MetaStore];
      const v = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      const b = bound.get(prop);
      if (b && b.fn === v) return b.bound;
      const fresh = v.bind(target);
      bound.set(prop, { fn: v, bound: fresh });
      return fresh;
    },
  });
}
