import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BucketCache, withBucketCache } from '../../src/meta/bucket-cache.js';
import type { BucketRow, MetaStore } from '../../src/meta/types.js';

/** A store of bucket rows that counts reads and can hold a read until released. */
function fakeStore() {
  const rows = new Map<string, BucketRow>();
  let reads = 0;
  let hold: Promise<void> | undefined;
  const store = {
    kind: 'sqlite',
    async getBucket(name: string) {
      reads++;
      const row = rows.get(name);
      const copy = row && structuredClone(row);
      if (hold) await hold;
      return copy;
    },
    async updateBucket(name: string, patch: { versioning?: BucketRow['versioning'] }) {
      const row = rows.get(name);
      if (!row) return false;
      rows.set(name, { ...row, ...patch });
      return true;
    },
    async deleteBucket(name: string) {
      return rows.delete(name) ? 'deleted' : 'missing';
    },
    async createBucket(row: BucketRow) {
      rows.set(row.name, row);
      return { created: true };
    },
    async listBuckets() {
      return [...rows.values()];
    },
  } as unknown as MetaStore;
  return {
    store, rows,
    reads: () => reads,
    holdReads() {
      let release!: () => void;
      hold = new Promise((ok) => (release = ok));
      return () => {
        hold = undefined;
        release();
      };
    },
  };
}

const row = (name: string, versioning: BucketRow['versioning'] = ''): BucketRow =>
  ({ name, id: `id-${name}`, ownerId: 'o', createdAt: 1, region: 'us-east-1', versioning, config: { cors: [{ AllowedOrigins: ['*'] }] } });

describe('BucketCache', () => {
  it('getBucket answers from the cache while the row is younger than maxAgeMs, then reads again', async () => {
    const f = fakeStore();
    f.rows.set('b', row('b'));
    const cache = new BucketCache(f.store, 50);
    assert.equal((await cache.get('b'))?.name, 'b');
    assert.equal((await cache.get('b'))?.name, 'b');
    assert.equal(f.reads(), 1);
    await new Promise((ok) => setTimeout(ok, 60));
    await cache.get('b');
    assert.equal(f.reads(), 2);
  });

  it('a change made by another process is seen once maxAgeMs has passed', async () => {
    const f = fakeStore();
    f.rows.set('b', row('b'));
    const meta = withBucketCache(f.store, 50);
    assert.equal((await meta.getBucket('b'))?.versioning, '');
    f.rows.set('b', row('b', 'Enabled'));
    await new Promise((ok) => setTimeout(ok, 60));
    assert.equal((await meta.getBucket('b'))?.versioning, 'Enabled');
  });

  it('updateBucket, deleteBucket and createBucket through the cached store are seen by the next read', async () => {
    const f = fakeStore();
    f.rows.set('b', row('b'));
    const meta = withBucketCache(f.store, 60_000);
    await meta.getBucket('b');
    await meta.updateBucket('b', { versioning: 'Enabled' });
    assert.equal((await meta.getBucket('b'))?.versioning, 'Enabled');
    assert.equal(await meta.deleteBucket('b'), 'deleted');
    assert.equal(await meta.getBucket('b'), undefined);
    await meta.createBucket(row('b', 'Suspended'));
    assert.equal((await meta.getBucket('b'))?.versioning, 'Suspended');
  });

  it('a missing bucket is not remembered: one created by another process is found at once', async () => {
    const f = fakeStore();
    const meta = withBucketCache(f.store, 60_000);
    assert.equal(await meta.getBucket('late'), undefined);
    f.rows.set('late', row('late'));
    assert.equal((await meta.getBucket('late'))?.name, 'late');
  });

  it('a read that began before a change does not put the old row back in the cache', async () => {
    const f = fakeStore();
    f.rows.set('b', row('b'));
    const meta = withBucketCache(f.store, 60_000);
    const release = f.holdReads();
    const slow = meta.getBucket('b');
    await meta.updateBucket('b', { versioning: 'Enabled' });
    release();
    assert.equal((await slow)?.versioning, '');
    assert.equal((await meta.getBucket('b'))?.versioning, 'Enabled');
  });

  it('cached rows are frozen, config included, so no request can change what another sees', async () => {
    const f = fakeStore();
    f.rows.set('b', row('b'));
    const meta = withBucketCache(f.store, 60_000);
    const got = (await meta.getBucket('b'))!;
    assert.throws(() => {
      (got as { versioning: string }).versioning = 'Enabled';
    }, TypeError);
    assert.throws(() => (got.config.cors as unknown[]).push({}), TypeError);
    assert.equal((await meta.getBucket('b'))?.versioning, '');
  });

  it('other calls reach the store, including a method replaced after the cache was made', async () => {
    const f = fakeStore();
    f.rows.set('b', row('b'));
    const meta = withBucketCache(f.store, 60_000);
    assert.equal(meta.kind, 'sqlite');
    assert.equal((await meta.listBuckets()).length, 1);
    const original = meta.listBuckets;
    meta.listBuckets = async () => [];
    assert.equal((await meta.listBuckets()).length, 0);
    meta.listBuckets = original;
    assert.equal((await meta.listBuckets()).length, 1);
  });
});
