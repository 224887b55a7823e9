/**
 * The MetaStore contract: every implementation runs this same suite. To add
 * one (PostgreSQL), push a factory onto STORES; the suite must pass unchanged.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetaStore } from '../../src/meta/sqlite/store.js';
import { contractFactories as postgresFactories } from '../support/postgres-scratch.js';
import { BlobGone, BucketGone, type MetaStore, type NewBlob, type VersionInput, type VersionRow } from '../../src/meta/types.js';

interface StoreFactory {
  name: string;
  open(): Promise<{ store: MetaStore; reopen?: () => Promise<MetaStore>; cleanup(): Promise<void> }>;
}

export const STORES: StoreFactory[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-contract-'));
      const file = join(dir, 'meta.sqlite');
      let store: MetaStore = new SqliteMetaStore(file);
      return {
        store,
        reopen: async () => {
          await store.close();
          store = new SqliteMetaStore(file);
          return store;
        },
        cleanup: async () => {
          await store.close().catch(() => undefined);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  ...(await postgresFactories()),
];

let n = 0;
const blob = (size = 10): NewBlob => ({ id: `f${(++n).toString(16).padStart(30, '0')}`, size, md5: 'm' });
const version = (b: NewBlob | undefined, over: Partial<VersionInput> = {}): VersionInput => ({
  deleteMarker: false, size: b?.size ?? 0, etag: `e${n}`, lastModified: Date.now(), manifest: b ? [{ blob: b.id, off: 0, len: b.size }] : [], meta: {}, ...over,
});
const bucketRow = (name: string) => ({ name, ownerId: '123456789012', createdAt: Date.now(), region: 'us-east-1', versioning: '' as const, config: {} });

for (const factory of STORES) {
  describe(`MetaStore contract: ${factory.name}`, () => {
    let store: MetaStore;
    let reopen: (() => Promise<MetaStore>) | undefined;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, reopen, cleanup } = await factory.open());
      await store.createBucket(bucketRow('b'));
    });
    after(() => cleanup());

    it('createBucket creates once and reports the existing row after', async () => {
      assert.deepEqual(await store.createBucket(bucketRow('c1')), { created: true });
      const again = await store.createBucket({ ...bucketRow('c1'), region: 'eu-west-1' });
      assert.equal(again.created, false);
      assert.equal(again.created === false && again.existing.region, 'us-east-1');
      assert.equal((await store.getBucket('c1'))?.ownerId, '123456789012');
      assert.equal(await store.getBucket('nope'), undefined);
    });

    it('listBuckets lists by name, optionally by owner', async () => {
      await store.createBucket({ ...bucketRow('c3'), ownerId: 'other' });
      const all = (await store.listBuckets()).map((b) => b.name);
      assert.deepEqual(all, [...all].sort());
      assert.ok(all.includes('c3'));
      assert.ok(!(await store.listBuckets('123456789012')).some((b) => b.name === 'c3'));
    });

    it('updateBucket sets and removes config entries and versioning; false for a missing bucket', async () => {
      await store.createBucket(bucketRow('c2'));
      assert.equal(await store.updateBucket('c2', { versioning: 'Enabled', config: { tagging: [['a', 'b']], policy: 'p' } }), true);
      await store.updateBucket('c2', { config: { policy: undefined } });
      const b = await store.getBucket('c2');
      assert.equal(b?.versioning, 'Enabled');
      assert.deepEqual(b?.config, { tagging: [['a', 'b']] });
      assert.equal(await store.updateBucket('missing', { versioning: 'Enabled' }), false);
    });

    it('deleteBucket: missing, not-empty with a version, deleted when it holds none: uploads in progress go with it and free their parts', async () => {
      assert.equal(await store.deleteBucket('never'), 'missing');
      await store.createBucket(bucketRow('d1'));
      await store.putVersion({ bucket: 'd1', key: 'k', versionId: 'null', mode: 'replace-null', newBlobs: [], version: version(undefined) });
      assert.equal(await store.deleteBucket('d1'), 'not-empty');
      await store.deleteVersion('d1', 'k', 'null');
      await store.createUpload({ uploadId: 'u-d1', bucket: 'd1', key: 'k', initiated: Date.now(), meta: {} });
      const b = blob();
      const part = { uploadId: 'u-d1', partNumber: 1, size: b.size, etag: 'p', lastModified: Date.now(), manifest: [{ blob: b.id, off: 0, len: b.size }], meta: {} };
      await store.putPart({ part, newBlobs: [b] });
      assert.equal(await store.deleteBucket('d1'), 'deleted');
      assert.equal(await store.getBucket('d1'), undefined);
      assert.equal(await store.getUpload('u-d1'), undefined);
      assert.deepEqual(await store.listParts('u-d1', 0, 10), []);
      assert.equal((await store.getBlob(b.id))?.refs, 0, 'the part\'s blob awaits the collector');
      assert.ok((await store.takeGarbage(Date.now() + 1e9, 1000)).some((g) => g.id === b.id));
      await store.createBucket(bucketRow('d1'));
      assert.deepEqual(await store.listUploads('d1', { limit: 10 }), []);
    });

    it('putVersion in replace-null mode replaces the null version and frees its blob after the grace period', async () => {
      const b1 = blob();
      const b2 = blob();
      await store.putVersion({ bucket: 'b', key: 'r', versionId: 'null', mode: 'replace-null', newBlobs: [b1], version: version(b1, { etag: 'one' }) });
      assert.equal((await store.getBlob(b1.id))?.refs, 1);
      const { dropped } = await store.putVersion({ bucket: 'b', key: 'r', versionId: 'null', mode: 'replace-null', newBlobs: [b2], version: version(b2, { etag: 'two' }) });
      assert.equal(dropped?.etag, 'one');
      assert.equal((await store.getVersion('b', 'r'))?.etag, 'two');
      assert.equal((await store.getBlob(b1.id))?.refs, 0);
      assert.deepEqual(await store.takeGarbage(Date.now() - 60_000, 100), [], 'not before the grace period');
      const garbage = await store.takeGarbage(Date.now() + 1, 100);
      assert.deepEqual(garbage.map((g) => g.id), [b1.id]);
      assert.equal(await store.getBlob(b1.id), undefined);
      assert.equal((await store.getBlob(b2.id))?.refs, 1);
    });

    it('putVersion check runs in the transaction: a throw writes nothing, not even the new blobs', async () => {
      const b1 = blob();
      await assert.rejects(
        store.putVersion({ bucket: 'b', key: 'chk', versionId: 'null', mode: 'replace-null', newBlobs: [b1], version: version(b1), check: () => { throw new Error('refused'); } }),
        /refused/,
      );
      assert.equal(await store.getVersion('b', 'chk'), undefined);
      assert.equal(await store.getBlob(b1.id), undefined);
      assert.equal((await store.knownBlobs([b1.id])).size, 0);
    });

    it('putVersion referencing a blob that does not exist fails with BlobGone and writes nothing', async () => {
      const ghost = blob();
      await assert.rejects(
        store.putVersion({ bucket: 'b', key: 'ghost', versionId: 'null', mode: 'replace-null', newBlobs: [], version: version(ghost) }),
        (e: unknown) => e instanceof BlobGone,
      );
      assert.equal(await store.getVersion('b', 'ghost'), undefined);
    });

    it('new blobs keep their CRC-64/NVME checkpoints through putVersion and putPart; blobs without them have none', async () => {
      const cp = Buffer.from([20, 1, 2, 3, 4, 5, 6, 7, 8]);
      const withCrc = { ...blob(), crc64nvme: cp };
      const plain = blob();
      await store.putVersion({ bucket: 'b', key: 'crc', versionId: 'null', mode: 'replace-null', newBlobs: [withCrc, plain], version: version(withCrc) });
      assert.deepEqual((await store.getBlob(withCrc.id))?.crc64nvme, cp);
      assert.equal((await store.getBlob(plain.id))?.crc64nvme, undefined);
      await store.createUpload({ uploadId: 'ucrc', bucket: 'b', key: 'crc', initiated: Date.now(), meta: {} });
      const p = { ...blob(), crc64nvme: Buffer.from([20, 9, 9, 9, 9, 9, 9, 9, 9]) };
      await store.putPart({ part: { uploadId: 'ucrc', partNumber: 1, size: p.size, etag: 'x', lastModified: Date.now(), manifest: [{ blob: p.id, off: 0, len: p.size }], meta: {} }, newBlobs: [p] });
      assert.deepEqual((await store.getBlob(p.id))?.crc64nvme, p.crc64nvme);
      assert.equal(await store.abortUpload('ucrc'), true);
    });

    it('conditional writes are atomic: of 20 concurrent create-if-absent writes exactly one wins', async () => {
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => {
        const b = blob();
        return store.putVersion({
          bucket: 'b', key: 'race', versionId: 'null', mode: 'replace-null', newBlobs: [b], version: version(b, { etag: `w${i}` }),
          check: (cur: VersionRow | undefined) => { if (cur) throw new Error('exists'); },
        });
      }));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    });

    it('append mode keeps every version; the newest is latest; deleting it promotes the next', async () => {
      for (const id of ['v1', 'v2', 'v3']) {
        const b = blob();
        await store.putVersion({ bucket: 'b', key: 'multi', versionId: id, mode: 'append', newBlobs: [b], version: version(b, { etag: id }) });
      }
      assert.equal((await store.getVersion('b', 'multi'))?.versionId, 'v3');
      assert.equal((await store.getVersion('b', 'multi', 'v1'))?.etag, 'v1');
      const listed = await store.listVersions('b', { prefix: 'multi', latestOnly: false, limit: 10 });
      assert.deepEqual(listed.map((v) => [v.versionId, v.isLatest]), [['v3', true], ['v2', false], ['v1', false]]);
      const gone = await store.deleteVersion('b', 'multi', 'v3');
      assert.equal(gone?.versionId, 'v3');
      assert.equal((await store.getVersion('b', 'multi'))?.versionId, 'v2');
      assert.equal(await store.deleteVersion('b', 'multi', 'nope'), undefined);
    });

    it('listVersions orders keys by UTF-8 bytes and honours prefix, afterKey and limit', async () => {
      const keys = ['l/b', 'l/a', 'l/ä', 'l/z', 'l/A', 'l/😀', 'l/\uffff'];
      for (const key of keys) await store.putVersion({ bucket: 'b', key, versionId: 'null', mode: 'replace-null', newBlobs: [], version: version(undefined) });
      const all = await store.listVersions('b', { prefix: 'l/', latestOnly: true, limit: 100 });
      const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      assert.deepEqual(all.map((v) => v.key), expected);
      const page = await store.listVersions('b', { prefix: 'l/', afterKey: expected[1], latestOnly: true, limit: 2 });
      assert.deepEqual(page.map((v) => v.key), expected.slice(2, 4));
    });

    it('updateVersionMeta patches meta in place and removes undefined fields', async () => {
      await store.putVersion({ bucket: 'b', key: 'm', versionId: 'null', mode: 'replace-null', newBlobs: [], version: version(undefined, { meta: { a: 1, tags: [['x', 'y']] } }) });
      assert.equal(await store.updateVersionMeta('b', 'm', 'null', { tags: undefined, b: 2 }), true);
      assert.deepEqual((await store.getVersion('b', 'm'))?.meta, { a: 1, b: 2 });
      assert.equal(await store.updateVersionMeta('b', 'none', 'null', {}), false);
    });

    it('parts hold references: replacing a part frees the old blob; abort frees them all', async () => {
      await store.createUpload({ uploadId: 'u1', bucket: 'b', key: 'mp', initiated: Date.now(), meta: {} });
      const p1 = blob();
      const p1b = blob();
      const p2 = blob();
      const part = (num: number, b: NewBlob) => ({ uploadId: 'u1', partNumber: num, size: b.size, etag: b.id, lastModified: Date.now(), manifest: [{ blob: b.id, off: 0, len: b.size }], meta: {} });
      await store.putPart({ part: part(1, p1), newBlobs: [p1] });
      const { replaced } = await store.putPart({ part: part(1, p1b), newBlobs: [p1b] });
      assert.equal(replaced?.etag, p1.id);
      await store.putPart({ part: part(2, p2), newBlobs: [p2] });
      assert.equal((await store.getBlob(p1.id))?.refs, 0);
      assert.deepEqual((await store.listParts('u1', 0, 10)).map((p) => p.partNumber), [1, 2]);
      assert.deepEqual((await store.listParts('u1', 1, 10)).map((p) => p.partNumber), [2]);
      assert.equal(await store.abortUpload('u1'), true);
      assert.equal(await store.getUpload('u1'), undefined);
      assert.equal((await store.getBlob(p1b.id))?.refs, 0);
      assert.equal((await store.getBlob(p2.id))?.refs, 0);
      assert.equal(await store.abortUpload('u1'), false);
    });

    it('listUploads: uploads of a key initiated in the same millisecond list in creation order, and resume after one', async () => {
      const t = Date.now();
      for (const id of ['same-z', 'same-a', 'same-m']) await store.createUpload({ uploadId: id, bucket: 'b', key: 'same', initiated: t, meta: {} });
      await store.createUpload({ uploadId: 'same-0', bucket: 'b', key: 'samf', initiated: t, meta: {} });
      const all = await store.listUploads('b', { prefix: 'sam', limit: 10 });
      assert.deepEqual(all.map((u) => u.uploadId), ['same-z', 'same-a', 'same-m', 'same-0']);
      const resumed = await store.listUploads('b', { prefix: 'sam', afterKey: 'same', afterUploadId: 'same-a', limit: 10 });
      assert.deepEqual(resumed.map((u) => u.uploadId), ['same-m', 'same-0']);
      for (const id of ['same-z', 'same-a', 'same-m', 'same-0']) await store.abortUpload(id);
    });

    it('completeUpload writes the built version, drops the upload and keeps shared blobs referenced', async () => {
      await store.createUpload({ uploadId: 'u2', bucket: 'b', key: 'done', initiated: Date.now(), meta: {} });
      const p = blob(5);
      await store.putPart({ part: { uploadId: 'u2', partNumber: 1, size: 5, etag: 'pe', lastModified: Date.now(), manifest: [{ blob: p.id, off: 0, len: 5 }], meta: {} }, newBlobs: [p] });
      const v = await store.completeUpload({
        uploadId: 'u2', bucket: 'b', key: 'done', versionId: 'null', mode: 'replace-null', fingerprint: 'fp', result: { ok: true },
        build: (upload, parts) => {
          assert.ok(upload);
          return version(undefined, { size: 5, etag: 'x-1', manifest: parts.get(1)!.manifest });
        },
      });
      assert.equal(v.etag, 'x-1');
      assert.equal(await store.getUpload('u2'), undefined);
      assert.equal((await store.getBlob(p.id))?.refs, 1);
      assert.deepEqual((await store.getCompleted('u2'))?.result, { ok: true });
      await store.pruneCompleted(Date.now() + 1);
      assert.equal(await store.getCompleted('u2'), undefined);
    });

    it('knownBlobs tells which ids metadata knows', async () => {
      const b1 = blob();
      await store.putVersion({ bucket: 'b', key: 'kb', versionId: 'null', mode: 'replace-null', newBlobs: [b1], version: version(b1) });
      const unknown = blob().id;
      assert.deepEqual([...(await store.knownBlobs([b1.id, unknown]))], [b1.id]);
    });

    it('a bucket gets an id of its own; one deleted and created again under the same name gets another', async () => {
      await store.createBucket(bucketRow('id1'));
      const first = (await store.getBucket('id1'))!;
      assert.match(first.id, /^[0-9a-f]{24}$/);
      assert.equal(await store.deleteBucket('id1'), 'deleted');
      await store.createBucket(bucketRow('id1'));
      assert.notEqual((await store.getBucket('id1'))!.id, first.id);
    });

    it('writes commit only into the bucket they name by id: a deleted or re-created bucket refuses them with BucketGone and keeps nothing', async () => {
      await store.createBucket(bucketRow('g1'));
      const old = (await store.getBucket('g1'))!;
      await store.createUpload({ uploadId: 'u-g1', bucket: 'g1', key: 'k', initiated: Date.now(), meta: {} }, old.id);
      assert.equal(await store.abortUpload('u-g1'), true);
      assert.equal(await store.deleteBucket('g1'), 'deleted');
      const b1 = blob();
      const put = (bucketId?: string) => store.putVersion({ bucket: 'g1', bucketId, key: 'k', versionId: 'null', mode: 'replace-null', newBlobs: [b1], version: version(b1) });
      // Gone: refused with or without an id, and with a check callback (the transactional path) too.
      await assert.rejects(put(old.id), BucketGone);
      await assert.rejects(put(undefined), BucketGone);
      await assert.rejects(store.putVersion({ bucket: 'g1', bucketId: old.id, key: 'k', versionId: 'null', mode: 'replace-null', newBlobs: [], version: version(undefined), check: () => undefined }), BucketGone);
      await assert.rejects(store.createUpload({ uploadId: 'u-g2', bucket: 'g1', key: 'k', initiated: Date.now(), meta: {} }, old.id), BucketGone);
      await assert.rejects(store.updateBucket('g1', { config: { x: 1 } }, old.id), BucketGone);
      // Re-created (by another owner): the old id still commits nothing; the new one does.
      await store.createBucket({ ...bucketRow('g1'), ownerId: 'other' });
      const fresh = (await store.getBucket('g1'))!;
      await assert.rejects(put(old.id), BucketGone);
      await assert.rejects(store.createUpload({ uploadId: 'u-g3', bucket: 'g1', key: 'k', initiated: Date.now(), meta: {} }, old.id), BucketGone);
      await assert.rejects(store.updateBucket('g1', { config: { x: 1 } }, old.id), BucketGone);
      assert.deepEqual((await store.getBucket('g1'))!.config, {});
      assert.equal(await store.getVersion('g1', 'k'), undefined);
      assert.equal(await store.getUpload('u-g3'), undefined);
      assert.equal(await store.getBlob(b1.id), undefined);
      await store.createUpload({ uploadId: 'u-g4', bucket: 'g1', key: 'k', initiated: Date.now(), meta: {} }, fresh.id);
      await assert.rejects(store.completeUpload({
        uploadId: 'u-g4', bucket: 'g1', bucketId: old.id, key: 'k', versionId: 'null', mode: 'replace-null', fingerprint: 'f', result: {},
        build: () => version(undefined),
      }), BucketGone);
      assert.ok(await store.getUpload('u-g4'));
      await put(fresh.id);
      assert.equal((await store.getVersion('g1', 'k'))?.size, b1.size);
    });

    it('claimOrphans claims only ids metadata does not know; a claimed id can never be registered; tombstones are pruned by age', async () => {
      const kept = blob();
      await store.putVersion({ bucket: 'b', key: 'claim', versionId: 'null', mode: 'replace-null', newBlobs: [kept], version: version(kept) });
      const orphan = blob();
      const t0 = Date.now();
      assert.deepEqual(await store.claimOrphans([kept.id, orphan.id], t0), [orphan.id]);
      assert.deepEqual(await store.claimOrphans([orphan.id], t0), [], 'claimed once');
      assert.ok((await store.knownBlobs([orphan.id])).has(orphan.id));
      // A writer that wrote this blob and commits only now fails, in a version and in a part, and leaves nothing.
      await assert.rejects(store.putVersion({ bucket: 'b', key: 'late', versionId: 'null', mode: 'replace-null', newBlobs: [orphan], version: version(orphan) }), BlobGone);
      assert.equal(await store.getVersion('b', 'late'), undefined);
      await store.createUpload({ uploadId: 'u-claim', bucket: 'b', key: 'late', initiated: Date.now(), meta: {} });
      const part = { uploadId: 'u-claim', partNumber: 1, size: orphan.size, etag: 'p', lastModified: Date.now(), manifest: [{ blob: orphan.id, off: 0, len: orphan.size }], meta: {} };
      await assert.rejects(store.putPart({ part, newBlobs: [orphan] }), BlobGone);
      // Nor can a manifest reference it as an existing blob.
      await assert.rejects(store.putVersion({ bucket: 'b', key: 'late', versionId: 'null', mode: 'replace-null', newBlobs: [], version: version(orphan) }), BlobGone);
      assert.deepEqual(await store.takeGarbage(Date.now() + 1e9, 1000).then((g) => g.filter((x) => x.id === orphan.id)), [], 'a tombstone is not garbage');
      assert.equal(await store.pruneTombstones(t0 - 1), 0);
      assert.ok((await store.pruneTombstones(t0 + 1)) >= 1);
      assert.equal((await store.knownBlobs([orphan.id])).size, 0);
      await store.abortUpload('u-claim');
    });

    it('committed writes survive closing and reopening the store', async (t) => {
      if (!reopen) return t.skip('this store cannot be reopened');
      const b1 = blob();
      await store.putVersion({ bucket: 'b', key: 'durable', versionId: 'null', mode: 'replace-null', newBlobs: [b1], version: version(b1, { etag: 'kept' }) });
      store = await reopen!();
      assert.equal((await store.getVersion('b', 'durable'))?.etag, 'kept');
      assert.equal((await store.getBlob(b1.id))?.refs, 1);
    });
  });
}
