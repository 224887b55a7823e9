/**
 * What the PostgreSQL store must add to the MetaStore contract (which
 * meta.test.ts runs against it too): it is shared by several processes. Two
 * stores on one database (two pools, as two gateways) race on the same key,
 * upload, part and blob, and every race ends as it would in one process.
 * Plus the schema's own rules: migrations safe under concurrent starts and
 * refused when newer than the code, byte-order keys at the edges of
 * `prefixEnd`, binary inline blobs. Each run uses fresh databases.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PostgresMetaStore } from '../../src/meta/postgres/store.js';
import { MIGRATIONS } from '../../src/meta/postgres/schema.js';
import { createScratchDatabase, postgresUnavailable, type ScratchDatabase } from '../support/postgres-scratch.js';
import { BlobGone, BucketGone, type MetaStore, type NewBlob, type PartRow, type VersionInput } from '../../src/meta/types.js';

const unavailable = await postgresUnavailable();

let n = 0;
const blob = (size = 10): NewBlob => ({ id: `f${(++n).toString(16).padStart(30, '0')}`, size });
const version = (blobs: NewBlob[], over: Partial<VersionInput> = {}): VersionInput => ({
  deleteMarker: false, size: blobs.reduce((s, b) => s + b.size, 0), etag: `e${n}`, lastModified: Date.now(),
  manifest: blobs.map((b) => ({ blob: b.id, off: 0, len: b.size })), meta: {}, ...over,
});
const bucketRow = (name: string) => ({ name, ownerId: '123456789012', createdAt: Date.now(), region: 'us-east-1', versioning: '' as const, config: {} });
const byteOrder = (x: string, y: string) => Buffer.compare(Buffer.from(x), Buffer.from(y));

describe('PostgreSQL store: migrations', { skip: unavailable }, () => {
  let db: ScratchDatabase;
  before(async () => {
    db = await createScratchDatabase();
  });
  after(() => db?.drop());

  it('open: four gateways starting at once on a new database migrate it once', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresMetaStore.open({ connectionString: db.url, max: 2 })));
    await stores[0].createBucket(bucketRow('m'));
    assert.ok(await stores[3].getBucket('m'));
    await Promise.all(stores.map((s) => s.close()));
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      assert.deepEqual((await c.query('SELECT version FROM schema_version')).rows, [{ version: MIGRATIONS.length }]);
      await c.query('UPDATE schema_version SET version = version + 1');
      await assert.rejects(PostgresMetaStore.open({ connectionString: db.url }), new RegExp(`schema version ${MIGRATIONS.length + 1}; this Tessera knows versions up to ${MIGRATIONS.length}$`));
    } finally {
      await c.end();
    }
  });
});

describe('PostgreSQL store: two stores on one database', { skip: unavailable }, () => {
  let db: ScratchDatabase;
  let one: MetaStore;
  let two: MetaStore;
  /** Alternates between the two stores, as requests spread over two gateways. */
  const at = (i: number) => (i % 2 ? two : one);

  before(async () => {
    db = await createScratchDatabase();
    one = await PostgresMetaStore.open({ connectionString: db.url, max: 4 });
    two = await PostgresMetaStore.open({ connectionString: db.url, max: 4 });
    await one.createBucket(bucketRow('b'));
  });
  after(async () => {
    await one?.close();
    await two?.close();
    await db?.drop();
  });

  it('putVersion: of 32 create-if-absent writes through both stores exactly one wins', async () => {
    const results = await Promise.allSettled(Array.from({ length: 32 }, (_, i) => {
      const b = blob();
      return at(i).putVersion({
        bucket: 'b', key: 'race', versionId: 'null', mode: 'replace-null', newBlobs: [b], version: version([b]),
        check: (cur) => { if (cur) throw new Error('exists'); },
      });
    }));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal((await one.listVersions('b', { prefix: 'race', latestOnly: false, limit: 100 })).length, 1);
  });

  it('putVersion: 32 appends through both stores are 32 versions, newest first, one latest', async () => {
    await Promise.all(Array.from({ length: 32 }, (_, i) =>
      at(i).putVersion({ bucket: 'b', key: 'many', versionId: `v${i}`, mode: 'append', newBlobs: [], version: version([]) })));
    const listed = await two.listVersions('b', { prefix: 'many', latestOnly: false, limit: 100 });
    assert.equal(listed.length, 32);
    for (let i = 1; i < listed.length; i++) assert.ok(listed[i - 1].seq > listed[i].seq, 'seq strictly decreasing');
    assert.deepEqual(listed.filter((v) => v.isLatest).map((v) => v.seq), [listed[0].seq]);
    assert.equal((await one.getVersion('b', 'many'))?.versionId, listed[0].versionId);
  });

  it('completeUpload: of 8 Completes of one upload through both stores, one builds on the upload', async () => {
    await one.createUpload({ uploadId: 'u-race', bucket: 'b', key: 'done', initiated: Date.now(), meta: {} });
    const p = blob(5);
    await two.putPart({ part: { uploadId: 'u-race', partNumber: 1, size: 5, etag: 'pe', lastModified: Date.now(), manifest: [{ blob: p.id, off: 0, len: 5 }], meta: {} }, newBlobs: [p] });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => at(i).completeUpload({
      uploadId: 'u-race', bucket: 'b', key: 'done', versionId: `c${i}`, mode: 'append', fingerprint: 'fp', result: { i },
      build: (upload, parts) => {
        if (!upload) throw new Error('NoSuchUpload');
        return version([], { size: 5, manifest: parts.get(1)!.manifest });
      },
    })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.match(String(r.reason), /NoSuchUpload/);
    assert.equal((await one.listVersions('b', { prefix: 'done', latestOnly: false, limit: 10 })).length, 1);
    assert.equal((await two.getBlob(p.id))?.refs, 1);
  });

  it('completeUpload racing abortUpload through the other store: one of them wins', async () => {
    for (let round = 0; round < 6; round++) {
      const uploadId = `u-abort-${round}`;
      await one.createUpload({ uploadId, bucket: 'b', key: `ca${round}`, initiated: Date.now(), meta: {} });
      const p = blob(3);
      await one.putPart({ part: { uploadId, partNumber: 1, size: 3, etag: 'x', lastModified: Date.now(), manifest: [{ blob: p.id, off: 0, len: 3 }], meta: {} }, newBlobs: [p] });
      const [completed, aborted] = await Promise.allSettled([
        one.completeUpload({
          uploadId, bucket: 'b', key: `ca${round}`, versionId: 'null', mode: 'replace-null', fingerprint: 'f', result: {},
          build: (upload, parts) => {
            if (!upload) throw new Error('NoSuchUpload');
            return version([], { size: 3, manifest: parts.get(1)!.manifest });
          },
        }),
        two.abortUpload(uploadId),
      ]);
      const abortWon = aborted.status === 'fulfilled' && aborted.value;
      assert.equal(completed.status === 'fulfilled', !abortWon, `round ${round}`);
      assert.equal((await two.getVersion('b', `ca${round}`)) !== undefined, !abortWon);
      assert.equal((await one.getBlob(p.id))?.refs, abortWon ? 0 : 1);
    }
  });

  it('putPart: concurrent writes of one part number through both stores leave one part holding one reference', async () => {
    await one.createUpload({ uploadId: 'u-parts', bucket: 'b', key: 'pp', initiated: Date.now(), meta: {} });
    const blobs = Array.from({ length: 12 }, () => blob(4));
    await Promise.all(blobs.map((b, i) => at(i).putPart({
      part: { uploadId: 'u-parts', partNumber: 7, size: 4, etag: b.id, lastModified: Date.now(), manifest: [{ blob: b.id, off: 0, len: 4 }], meta: {} },
      newBlobs: [b], check: (u) => assert.ok(u),
    })));
    const [part] = await two.listParts('u-parts', 0, 10) as PartRow[];
    const refs = await Promise.all(blobs.map(async (b) => (await one.getBlob(b.id))!.refs));
    assert.deepEqual(refs, blobs.map((b) => (b.id === part.etag ? 1 : 0)));
  });

  it('takeGarbage racing a write that re-references the blob: either the write holds it or it fails with BlobGone', async () => {
    for (let round = 0; round < 10; round++) {
      const b = blob();
      const key = `gc${round}`;
      await one.putVersion({ bucket: 'b', key, versionId: 'null', mode: 'replace-null', newBlobs: [b], version: version([b]) });
      await one.deleteVersion('b', key, 'null');
      const [taken, put] = await Promise.allSettled([
        one.takeGarbage(Date.now() + 1, 1000),
        two.putVersion({ bucket: 'b', key: `${key}-copy`, versionId: 'null', mode: 'replace-null', newBlobs: [], version: version([b]) }),
      ]);
      assert.equal(taken.status, 'fulfilled');
      const collected = taken.status === 'fulfilled' && taken.value.some((g) => g.id === b.id);
      if (put.status === 'rejected') assert.ok(put.reason instanceof BlobGone, String(put.reason));
      assert.equal(put.status === 'fulfilled', !collected, `round ${round}: exactly one of them has the blob`);
      assert.equal((await two.getBlob(b.id))?.refs, collected ? undefined : 1);
    }
  });

  it('deleteBucket racing a write into it through the other store: either the write is in and the bucket stays, or the bucket goes and the write fails', async () => {
    for (let round = 0; round < 16; round++) {
      const name = `race${round}`;
      await one.createBucket(bucketRow(name));
      const { id } = (await one.getBucket(name))!;
      const b = blob();
      const [deleted, put] = await Promise.allSettled([
        one.deleteBucket(name),
        two.putVersion({ bucket: name, bucketId: id, key: 'k', versionId: 'null', mode: 'replace-null', newBlobs: [b], version: version([b]), check: () => undefined }),
      ]);
      assert.equal(deleted.status, 'fulfilled');
      if (put.status === 'fulfilled') {
        assert.equal(deleted.value, 'not-empty', `round ${round}`);
        assert.ok(await one.getVersion(name, 'k'));
      } else {
        assert.ok(put.reason instanceof BucketGone, `round ${round}: ${put.reason}`);
        assert.equal(deleted.value, 'deleted');
        assert.equal(await two.getBlob(b.id), undefined);
        // Re-created, the bucket is empty.
        await two.createBucket(bucketRow(name));
        assert.equal(await one.getVersion(name, 'k'), undefined);
      }
    }
  });

  it('claimOrphans racing a commit of the same new blob through the other store: exactly one of them wins', async () => {
    for (let round = 0; round < 16; round++) {
      const b = blob();
      const [claimed, put] = await Promise.allSettled([
        one.claimOrphans([b.id], Date.now()),
        two.putVersion({ bucket: 'b', key: `claim-race${round}`, versionId: 'null', mode: 'replace-null', newBlobs: [b], version: version([b]) }),
      ]);
      assert.equal(claimed.status, 'fulfilled');
      if (put.status === 'fulfilled') assert.deepEqual(claimed.value, [], `round ${round}`);
      else {
        assert.ok(put.reason instanceof BlobGone, `round ${round}: ${put.reason}`);
        assert.deepEqual(claimed.value, [b.id]);
      }
    }
  });

  it('writes referencing shared blobs in opposite orders never deadlock and count every reference', async () => {
    const x = blob();
    const y = blob();
    await one.putVersion({ bucket: 'b', key: 'xy', versionId: 'null', mode: 'replace-null', newBlobs: [x, y], version: version([x, y]) });
    await Promise.all(Array.from({ length: 24 }, (_, i) => at(i).putVersion({
      bucket: 'b', key: `xy${i % 6}`, versionId: 'null', mode: 'replace-null', newBlobs: [], version: version(i % 3 ? [x, y, x] : [y, x]),
    })));
    const live = await one.listVersions('b', { prefix: 'xy', latestOnly: true, limit: 100 });
    const count = (id: string) => live.reduce((s, v) => s + v.manifest.filter((e) => e.blob === id).length, 0);
    assert.equal((await two.getBlob(x.id))?.refs, count(x.id));
    assert.equal((await two.getBlob(y.id))?.refs, count(y.id));
  });
});

describe('PostgreSQL store: the schema\'s own rules', { skip: unavailable }, () => {
  let db: ScratchDatabase;
  let store: MetaStore;
  before(async () => {
    db = await createScratchDatabase();
    store = await PostgresMetaStore.open({ connectionString: db.url, max: 2 });
    await store.createBucket(bucketRow('b'));
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });

  it('listVersions: prefixes ending at the edges of UTF-16 and UTF-8, and at the stored escapes of U+0000 and U+0001, bound exactly the keys that start with them', async () => {
    const keys = ['a', 'a\u0000', 'a\u0000\u0001', 'a\u0001', 'a\u0001\u0000', 'a\u0002', 'a/x', 'a\u007f', 'a\u0080', 'a\ud7ff', 'a\ud7ffz', 'a\ue000', 'a\uffff', 'a\uffffq', 'a\u{10000}', 'a\u{10ffff}', 'a\u{10ffff}!', 'b', 'B'];
    for (const key of keys) await store.putVersion({ bucket: 'b', key, versionId: 'null', mode: 'replace-null', newBlobs: [], version: version([]) });
    for (const prefix of ['a', 'a\u0000', 'a\u0001', 'a\ud7ff', 'a\uffff', 'a\u{10ffff}', 'a\u007f', '']) {
      const listed = await store.listVersions('b', { prefix, latestOnly: true, limit: 100 });
      const expected = keys.filter((k) => k.startsWith(prefix)).sort(byteOrder);
      assert.deepEqual(listed.map((v) => v.key), expected, `prefix ${JSON.stringify(prefix)}`);
    }
    const from = await store.listVersions('b', { fromKey: 'a\uffff', latestOnly: true, limit: 3 });
    assert.deepEqual(from.map((v) => v.key), keys.filter((k) => byteOrder(k, 'a\uffff') >= 0).sort(byteOrder).slice(0, 3));
  });

  it('getBlob returns an inline blob byte for byte', async () => {
    const inline = Buffer.from(Array.from({ length: 512 }, (_, i) => i & 0xff));
    const b: NewBlob = { id: `i${'0'.repeat(30)}`, size: inline.length, md5: 'm', inline };
    await store.putVersion({ bucket: 'b', key: 'inline', versionId: 'null', mode: 'replace-null', newBlobs: [b], version: version([b]) });
    const got = await store.getBlob(b.id);
    assert.deepEqual(got?.inline, inline);
    assert.equal(got?.md5, 'm');
  });

  it('listUploads: key order, then initiation order, resuming inside a key after an upload id', async () => {
    for (const [id, key, t] of [['u3', 'k/b', 3], ['u2', 'k/a', 4], ['u1', 'k/a', 5], ['u0', 'k/\u00e9', 1]] as const) {
      await store.createUpload({ uploadId: id, bucket: 'b', key, initiated: t, meta: { t } });
    }
    const all = await store.listUploads('b', { prefix: 'k/', limit: 10 });
    assert.deepEqual(all.map((u) => u.uploadId), ['u2', 'u1', 'u3', 'u0']);
    const resumed = await store.listUploads('b', { prefix: 'k/', afterKey: 'k/a', afterUploadId: 'u2', limit: 10 });
    assert.deepEqual(resumed.map((u) => u.uploadId), ['u1', 'u3', 'u0']);
    const stale = await store.staleUploads('b', 'k/', 4);
    assert.deepEqual(stale.map((u) => u.uploadId), ['u3', 'u0']);
  });

  it('accounts: every change bumps the generation; deleting an account revokes its keys', async () => {
    const g0 = await store.accountsGeneration();
    await store.putAccount({ accountId: '111111111111', canonicalId: 'c1', displayName: 'one', createdAt: 1 });
    await store.putAccessKey({ accessKeyId: 'AK1', accountId: '111111111111', secret: 'sealed', status: 'Active', createdAt: 2 }, (k) => assert.equal(k, undefined));
    await assert.rejects(store.putAccount({ accountId: '111111111111', canonicalId: 'c1', displayName: 'x', createdAt: 1 }, (a) => {
      if (a) throw new Error('taken');
    }), /taken/);
    assert.equal(await store.deleteAccount('111111111111'), true);
    assert.equal(await store.deleteAccount('111111111111'), false);
    const snap = await store.loadAccounts();
    assert.equal(snap.generation, g0 + 3);
    assert.deepEqual(snap.accounts, []);
    assert.deepEqual(snap.keys.map((k) => [k.accessKeyId, k.status, k.secret]), [['AK1', 'Revoked', '']]);
  });
});

describe('PostgreSQL store: the accounts generation cache', { skip: unavailable }, () => {
  let db: ScratchDatabase;
  let admin: pg.Client;
  const stores: MetaStore[] = [];
  const open = async (accountsMaxAgeMs: number, onError?: (e: Error) => void) => {
    const s = await PostgresMetaStore.open({ connectionString: db.url, max: 2, accountsMaxAgeMs, onError });
    stores.push(s);
    return s;
  };
  const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
  /** The generation in the database now. */
  const current = async () => Number((await admin.query('SELECT generation FROM accounts_generation')).rows[0].generation);
  /** A change that announces nothing, as if its notification were lost. */
  const silentBump = () => admin.query('UPDATE accounts_generation SET generation = generation + 1');
  /** Polls until `ok()` holds (10 s at most): for what a notification brings, which arrives when it arrives. */
  async function until(ok: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if (await ok()) return;
      await sleep(20);
    }
    assert.fail(`never: ${what}`);
  }
  /** Waits until `store` answers from its cache: a silent change stays unseen (the store is then one generation behind). */
  async function untilCached(store: MetaStore): Promise<void> {
    await until(async () => {
      const seen = await store.accountsGeneration();
      await silentBump();
      return (await store.accountsGeneration()) === seen;
    }, 'the store answers from its cache');
  }
  let n = 0;
  const account = () => ({ accountId: String(++n).padStart(12, '7'), canonicalId: `cache-${n}`, displayName: `cache ${n}`, createdAt: n });

  before(async () => {
    db = await createScratchDatabase();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  after(async () => {
    for (const s of stores) await s.close();
    await admin?.end();
    await db?.drop();
  });

  it('accountsGeneration: cached between changes; a change through the store itself is seen at once, one through another store when its notification arrives', async () => {
    const [writer, gateway] = [await open(60_000), await open(60_000)];
    await untilCached(gateway);
    assert.notEqual(await gateway.accountsGeneration(), await current(), 'a silent change is not seen within the cache interval');
    await gateway.putAccount(account());
    assert.equal(await gateway.accountsGeneration(), await current(), 'the store that made the change sees it at once');
    await untilCached(gateway);
    await writer.putAccessKey({ accessKeyId: `AKCACHE${n}`, accountId: account().accountId, secret: 's', status: 'Active', createdAt: 1 });
    await until(async () => (await gateway.accountsGeneration()) === (await current()), 'the other store\'s change is seen');
  });

  it('accountsGeneration: a change whose notification is lost is seen once accountsMaxAgeMs has passed', async () => {
    const gateway = await open(300);
    await untilCached(gateway);
    await sleep(400);
    assert.equal(await gateway.accountsGeneration(), await current());
  });

  it('accountsGeneration: when the listening connection is cut, the cache is dropped and the lost connection reported; the store listens and caches again', async () => {
    const errors: Error[] = [];
    const [writer, gateway] = [await open(60_000), await open(60_000, (e) => errors.push(e))];
    await untilCached(gateway);
    const cut = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND query = 'LISTEN tessera_accounts' AND pid <> pg_backend_pid()`);
    assert.ok(cut.rowCount! >= 1, 'a listening connection was cut');
    await until(async () => (await gateway.accountsGeneration()) === (await current()), 'the lost connection drops the cache');
    assert.equal(errors.length, 1, 'the lost connection is reported once');
    await untilCached(gateway);
    await writer.putAccount(account());
    await until(async () => (await gateway.accountsGeneration()) === (await current()), 'notifications arrive again');
  });
});
