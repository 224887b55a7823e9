import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  ListObjectVersionsCommand, ListObjectsV2Command, ListPartsCommand, PutBucketVersioningCommand, PutObjectCommand,
  UploadPartCommand, UploadPartCopyCommand, type S3Client,
} from '@aws-sdk/client-s3';
import pg from 'pg';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { createScratchDatabase, postgresUnavailable, type ScratchDatabase } from '../support/postgres-scratch.js';

/**
 * A live server whose metadata is in PostgreSQL (`meta: 'postgres'`, a fresh
 * database per run), driven with the SDK through the operations that touch
 * every store primitive: small (inline) and file-backed objects, listing in
 * UTF-8 byte order, multipart with UploadPartCopy, versioning with delete
 * markers, conditional writes racing, and the collector.
 */
const unavailable = await postgresUnavailable();
const MIN = 1024;

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed * 31) & 0xff;
  return b;
}
const md5 = (b: Buffer) => createHash('md5').update(b).digest();

describe('PostgreSQL mode', { skip: unavailable }, () => {
  let db: ScratchDatabase;
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('pg');

  const get = async (Key: string, VersionId?: string) => {
    const r = await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }));
    return Buffer.from(await r.Body!.transformToByteArray());
  };

  before(async () => {
    db = await createScratchDatabase();
    ({ s3, server, close } = await liveServer({ meta: 'postgres', postgresUrl: db.url, minPartSize: MIN, inlineThreshold: 4096, logLevel: 'error' }));
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => {
    await close?.();
    await db?.drop();
  });

  it('startServer opens the PostgreSQL store', () => {
    assert.equal(server.deps.meta.kind, 'postgres');
    assert.equal(server.deps.config.meta, 'postgres');
  });

  it('PutObject then GetObject returns the bytes, inline and file-backed', async () => {
    for (const [Key, body] of [['small', bytes(100, 1)], ['large', bytes(3 * 4096, 2)]] as const) {
      const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body: body }));
      assert.equal(put.ETag, `"${md5(body).toString('hex')}"`);
      assert.deepEqual(await get(Key), body);
    }
    const ranged = await s3.send(new GetObjectCommand({ Bucket, Key: 'large', Range: 'bytes=4090-4105' }));
    assert.deepEqual(Buffer.from(await ranged.Body!.transformToByteArray()), bytes(3 * 4096, 2).subarray(4090, 4106));
  });

  it('ListObjectsV2 lists keys in UTF-8 byte order, pages and groups by delimiter', async () => {
    const keys = ['u/B', 'u/a', 'u/é', 'u/😀', 'u/\ufffd', 'u/z/1', 'u/z/2'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
    const all: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'u/', MaxKeys: 2, ContinuationToken }));
      all.push(...(page.Contents ?? []).map((o) => o.Key!));
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    assert.deepEqual(all, [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    const grouped = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'u/', Delimiter: '/' }));
    assert.deepEqual(grouped.CommonPrefixes?.map((p) => p.Prefix), ['u/z/']);
    assert.equal(grouped.KeyCount, 6);
  });

  it('PutObject keys holding U+0000 and U+0001 (which PostgreSQL text cannot store as is) round-trip and list in byte order', async () => {
    const keys = ['n/a', 'n/a\u0000b', 'n/a\u0001', 'n/a\u0000', 'n/a\u0002'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: JSON.stringify(Key) }));
    for (const Key of keys) assert.equal((await get(Key)).toString(), JSON.stringify(Key));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'n/a\u0000', EncodingType: 'url' }));
    assert.deepEqual(listed.Contents?.map((o) => decodeURIComponent(o.Key!)), ['n/a\u0000', 'n/a\u0000b']);
    const all = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'n/', EncodingType: 'url' }));
    assert.deepEqual(all.Contents?.map((o) => decodeURIComponent(o.Key!)), [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    const upload = await s3Error(() => s3.send(new ListPartsCommand({ Bucket, Key: 'n/a', UploadId: 'x\u0000y' })));
    assert.equal(upload.name, 'NoSuchUpload');
  });

  it('CompleteMultipartUpload assembles UploadPart and UploadPartCopy parts', async () => {
    const source = bytes(3000, 3);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'mp-source', Body: source }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp' }));
    const p1 = bytes(MIN + 10, 4);
    const up = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 1, Body: p1 }));
    const copy = await s3.send(new UploadPartCopyCommand({
      Bucket, Key: 'mp', UploadId, PartNumber: 2, CopySource: `${Bucket}/mp-source`, CopySourceRange: 'bytes=100-2099',
    }));
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key: 'mp', UploadId }));
    assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, MIN + 10], [2, 2000]]);
    const done = await s3.send(new CompleteMultipartUploadCommand({
      Bucket, Key: 'mp', UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: up.ETag }, { PartNumber: 2, ETag: copy.CopyPartResult!.ETag }] },
    }));
    const expected = Buffer.concat([p1, source.subarray(100, 2100)]);
    const etag = createHash('md5').update(Buffer.concat([md5(p1), md5(source.subarray(100, 2100))])).digest('hex');
    assert.equal(done.ETag, `"${etag}-2"`);
    assert.deepEqual(await get('mp'), expected);
    const gone = await s3Error(() => s3.send(new ListPartsCommand({ Bucket, Key: 'mp', UploadId })));
    assert.equal(gone.name, 'NoSuchUpload');
  });

  it('Versioning keeps versions, a delete marker hides the key, deleting the marker restores it', async () => {
    const vb = bucketName('pgv');
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'two' }));
    const del = await s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'k' }));
    assert.equal(del.DeleteMarker, true);
    assert.equal((await s3Error(() => s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k' })))).name, 'NoSuchKey');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: vb }));
    assert.deepEqual(versions.Versions?.map((v) => [v.VersionId, v.IsLatest]), [[v2.VersionId, false], [v1.VersionId, false]]);
    assert.deepEqual(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest]), [[del.VersionId, true]]);
    const old = await s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k', VersionId: v1.VersionId }));
    assert.equal(await old.Body!.transformToString(), 'one');
    await s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'k', VersionId: del.VersionId }));
    const now = await s3.send(new GetObjectCommand({ Bucket: vb, Key: 'k' }));
    assert.equal(now.VersionId, v2.VersionId);
    assert.equal(await now.Body!.transformToString(), 'two');
  });

  it('PutObject If-None-Match: * racing: exactly one of 8 writers creates the key', async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) =>
      s3.send(new PutObjectCommand({ Bucket, Key: 'race', Body: `w${i}`, IfNoneMatch: '*' }))));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'PreconditionFailed');
  });

  it('PutObject and GetObject succeed after the database cut every connection of the pool', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cut', Body: 'before' }));
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const cut = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
      assert.ok(cut.rowCount! >= 1, 'the server held at least one connection');
    } finally {
      await admin.end();
    }
    // A pooled connection that died idle is dropped by the pool; one that dies under a request fails that request only.
    let lastError: unknown;
    for (let i = 0; i < 3; i++) {
      try {
        await s3.send(new PutObjectCommand({ Bucket, Key: 'cut', Body: 'after' }));
        lastError = undefined;
        break;
      } catch (e) {
        lastError = e;
      }
    }
    assert.equal(lastError, undefined);
    assert.equal((await get('cut')).toString(), 'after');
  });

  it('GetObject still reads an overwritten key after a collector pass frees the old blob', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'gc', Body: bytes(5000, 5) }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'gc', Body: bytes(5000, 6) }));
    const { collected } = await server.jobs.runNow({ graceMs: 0, now: Date.now() + 1 });
    assert.ok(collected >= 1, `collected ${collected}`);
    assert.deepEqual(await get('gc'), bytes(5000, 6));
    assert.deepEqual(await get('large'), bytes(3 * 4096, 2));
    assert.deepEqual(await get('mp-source'), bytes(3000, 3));
  });
});
