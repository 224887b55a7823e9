import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, UploadPartCopyCommand, GetBucketVersioningCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
  ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import { raw, xmlField } from './raw-signed.js';
import type { RunningServer } from '../../src/index.js';

let server: RunningServer;
let s3: S3Client;
let close: () => Promise<void>;

before(async () => {
  ({ server, s3, close } = await liveServer({ inlineThreshold: 16 }));
});
after(() => close());

async function bucket(status?: 'Enabled' | 'Suspended'): Promise<string> {
  const b = bucketName('ver');
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  if (status) await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: status } }));
  return b;
}

const put = (b: string, k: string, body: string) => s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: body }));
const text = async (b: string, k: string, versionId?: string) => (await s3.send(new GetObjectCommand({ Bucket: b, Key: k, VersionId: versionId }))).Body!.transformToString();
const VERSION_ID = /^[A-Za-z0-9._]{32}$/;

describe('PutBucketVersioning / GetBucketVersioning', () => {
  it('PutBucketVersioning Enabled and Suspended, never back, bad values refused (recorded)', async () => {
    const b = await bucket();
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, undefined);
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Suspended');
    for (const Status of ['enabled', 'Disabled']) {
      const e = await s3Error(() => s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: Status as 'Enabled' } })));
      assert.equal(e.status, 400);
      assert.equal(e.name, 'MalformedXML');
      assert.equal(e.message, 'The XML you provided was not well-formed or did not validate against our published schema');
    }
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
    const empty = await s3Error(() => s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: {} })));
    assert.equal(empty.status, 400);
    assert.equal(empty.name, 'IllegalVersioningConfigurationException');
    assert.equal(empty.message, 'The Versioning element must be specified');
    const mfa = await s3Error(() => s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' } })));
    assert.equal(mfa.status, 501);
    assert.equal(mfa.name, 'NotImplemented');
    assert.match(mfa.message, /MFA delete/);
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
    const missing = bucketName('nob');
    for (const send of [() => s3.send(new GetBucketVersioningCommand({ Bucket: missing })),
      () => s3.send(new PutBucketVersioningCommand({ Bucket: missing, VersioningConfiguration: { Status: 'Suspended' } }))]) {
      const e = await s3Error(send);
      assert.equal(e.status, 404);
      assert.equal(e.name, 'NoSuchBucket');
    }
  });
});

describe('Versioned writes and reads', () => {
  it('PutObject in an enabled bucket makes a new version each time; older objects keep null (recorded)', async () => {
    const b = await bucket();
    const pre = await put(b, 'old', 'non-versioned-key');
    assert.equal(pre.VersionId, undefined);
    const preGet = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'old' }));
    assert.equal(preGet.VersionId, undefined);
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: b, Key: 'old' }))).VersionId, 'null');
    const v1 = await put(b, 'k', 'versioned-key');
    const v2 = await put(b, 'k', 'versioned-key-updated');
    assert.match(v1.VersionId!, VERSION_ID);
    assert.match(v2.VersionId!, VERSION_ID);
    assert.notEqual(v1.VersionId, v2.VersionId);
    assert.equal(await text(b, 'k'), 'versioned-key-updated');
    assert.equal(await text(b, 'k', v1.VersionId), 'versioned-key');
    assert.equal(await text(b, 'old', 'null'), 'non-versioned-key');
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: v1.VersionId }));
    assert.equal(head.VersionId, v1.VersionId);
    assert.equal(head.ContentLength, 13);
  });

  it('PutObject in a suspended bucket replaces only the null version and names no version (recorded)', async () => {
    const b = await bucket('Enabled');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await put(b, 'test-version', `test-version-${i}`)).VersionId);
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    const s1 = await put(b, 'test-version', 'test-version-suspended');
    assert.equal(s1.VersionId, undefined);
    assert.equal((await s3.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions?.length, 4);
    await put(b, 'test-version', 'test-version-suspended-2');
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual(list.Versions?.map((v) => [v.VersionId, v.IsLatest]), [['null', true], [ids[2], false], [ids[1], false], [ids[0], false]]);
    const cur = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'test-version' }));
    assert.equal(cur.VersionId, 'null');
    assert.equal(await cur.Body!.transformToString(), 'test-version-suspended-2');
  });

  it('DeleteObject adds a delete marker; reads answer as AWS for markers and removed versions (recorded)', async () => {
    const b = await bucket('Enabled');
    const v1 = await put(b, 'test-delete', 'test-delete');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'test-delete' }));
    assert.equal(del.DeleteMarker, true);
    assert.match(del.VersionId!, VERSION_ID);
    const gone = await s3Error(() => s3.send(new GetObjectCommand({ Bucket: b, Key: 'test-delete' })));
    assert.equal(gone.status, 404);
    assert.equal(gone.name, 'NoSuchKey');
    assert.equal(gone.raw.$response.headers['x-amz-delete-marker'], 'true');
    assert.equal(gone.raw.$response.headers['x-amz-version-id'], del.VersionId);
    const headGone = await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: b, Key: 'test-delete' })));
    assert.equal(headGone.status, 404);
    assert.equal(headGone.raw.$response.headers['x-amz-delete-marker'], 'true');
    assert.equal(await text(b, 'test-delete', v1.VersionId), 'test-delete');
    const onMarker = await raw(server, { method: 'GET', path: `/${b}/test-delete`, query: { versionId: del.VersionId! } });
    assert.equal(onMarker.status, 405);
    assert.equal(xmlField(onMarker.body, 'Code'), 'MethodNotAllowed');
    assert.equal(xmlField(onMarker.body, 'Method'), 'GET');
    assert.equal(xmlField(onMarker.body, 'ResourceType'), 'DeleteMarker');
    assert.equal(onMarker.headers['x-amz-delete-marker'], 'true');
    assert.equal(onMarker.headers['x-amz-version-id'], del.VersionId);
    assert.equal(onMarker.headers.allow, 'DELETE');
    const headMarker = await raw(server, { method: 'HEAD', path: `/${b}/test-delete`, query: { versionId: del.VersionId! } });
    assert.equal(headMarker.status, 405);
    const del2 = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'test-delete' }));
    assert.notEqual(del2.VersionId, del.VersionId);
    const delMarker = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'test-delete', VersionId: del.VersionId }));
    assert.equal(delMarker.DeleteMarker, true);
    assert.equal(delMarker.VersionId, del.VersionId);
    const delVersion = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'test-delete', VersionId: v1.VersionId }));
    assert.equal(delVersion.DeleteMarker, undefined);
    assert.equal(delVersion.VersionId, v1.VersionId);
    const noVersion = await raw(server, { method: 'GET', path: `/${b}/test-delete`, query: { versionId: v1.VersionId! } });
    assert.equal(noVersion.status, 404);
    assert.equal(xmlField(noVersion.body, 'Code'), 'NoSuchVersion');
    assert.equal(xmlField(noVersion.body, 'VersionId'), v1.VersionId);
    assert.equal(noVersion.headers['x-amz-delete-marker'], undefined);
    assert.equal(noVersion.headers['x-amz-version-id'], undefined);
    const forged = v1.VersionId!.slice(0, -4) + (v1.VersionId!.endsWith('ABCD') ? 'ABCE' : 'ABCD');
    const bad = await s3Error(() => s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'test-delete', VersionId: forged })));
    assert.equal(bad.status, 400);
    assert.equal(bad.name, 'InvalidArgument');
    assert.equal(bad.message, 'Invalid version id specified');
    assert.equal(bad.raw.ArgumentName, 'versionId');
    const fresh = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'wrong-key' }));
    assert.equal(fresh.DeleteMarker, true);
  });

  it('GetObject with a version id on a never-versioned bucket is InvalidArgument; null reads (recorded)', async () => {
    const b = await bucket();
    await put(b, 'test-version', 'test-version');
    const e = await s3Error(() => s3.send(new GetObjectCommand({ Bucket: b, Key: 'test-version', VersionId: 'HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD' })));
    assert.equal(e.status, 400);
    assert.equal(e.name, 'InvalidArgument');
    assert.equal(e.raw.ArgumentValue, 'HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD');
    assert.equal(await text(b, 'test-version', 'null'), 'test-version');
    const d = await s3Error(() => s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'test-version', VersionId: 'HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD' })));
    assert.equal(d.name, 'InvalidArgument');
  });

  it('ListObjectsV2 hides a key whose current version is a delete marker, and shows it again when the marker goes', async () => {
    const b = await bucket('Enabled');
    await put(b, 'a', 'a');
    await put(b, 'b', 'b');
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'a' }));
    assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents?.map((c) => c.Key), ['b']);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'a', VersionId: del.VersionId }));
    assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: b }))).Contents?.map((c) => c.Key), ['a', 'b']);
  });
});

describe('Versions and blobs', () => {
  it('DeleteObject of one version keeps an extent another version shares, and frees it with the last one', async () => {
    const b = await bucket('Enabled');
    const data = 'shared extent bytes '.repeat(20);
    const v1 = await put(b, 'src', data);
    const src = (await server.deps.meta.getVersion(b, 'src', v1.VersionId))!;
    const blob = src.manifest[0].blob;
    // What a zero-copy CopyObject commits: a new version whose manifest names the same extent.
    await server.deps.meta.putVersion({
      bucket: b, key: 'copy', versionId: 'null', mode: 'replace-null', newBlobs: [],
      version: { deleteMarker: false, size: src.size, etag: src.etag, lastModified: Date.now(), manifest: src.manifest, meta: src.meta },
    });
    assert.equal((await server.deps.meta.getBlob(blob))?.refs, 2);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'src', VersionId: v1.VersionId }));
    await new Promise((r) => setTimeout(r, 5));
    await server.jobs.runNow({ graceMs: 0 });
    assert.equal(await text(b, 'copy'), data);
    assert.equal((await server.deps.meta.getBlob(blob))?.refs, 1);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'copy', VersionId: 'null' }));
    await new Promise((r) => setTimeout(r, 5));
    const { collected } = await server.jobs.runNow({ graceMs: 0 });
    assert.ok(collected >= 1);
    assert.equal(await server.deps.meta.getBlob(blob), undefined);
  });

  it('DeleteObject of every source version keeps a CopyObject copy of an old version readable', async () => {
    const b = await bucket('Enabled');
    const v1 = await put(b, 'src', 'old version of the source, long enough to be a file');
    const v2 = await put(b, 'src', 'new version of the source, long enough to be a file');
    const copy = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src?versionId=${v1.VersionId}` }));
    assert.equal(copy.CopySourceVersionId, v1.VersionId);
    for (const v of [v1, v2]) await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'src', VersionId: v.VersionId }));
    await new Promise((r) => setTimeout(r, 5));
    await server.jobs.runNow({ graceMs: 0 });
    assert.equal(await text(b, 'dst'), 'old version of the source, long enough to be a file');
  });

  it('DeleteObject of a source version keeps a part copied from it alive until Complete', async () => {
    const b = await bucket('Enabled');
    const data = 'bytes of the copied part '.repeat(8);
    const v1 = await put(b, 'src', data);
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }));
    const part = await s3.send(new UploadPartCopyCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, CopySource: `${b}/src?versionId=${v1.VersionId}` }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'src', VersionId: v1.VersionId }));
    await new Promise((r) => setTimeout(r, 5));
    await server.jobs.runNow({ graceMs: 0 });
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: b, Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult!.ETag }] },
    }));
    await server.jobs.runNow({ graceMs: 0 });
    assert.equal(await text(b, 'mp'), data);
  });

  it('DeleteObject of a noncurrent version keeps the current one readable after collection', async () => {
    const b = await bucket('Enabled');
    const v1 = await put(b, 'k', 'first version, long enough to be a file');
    const v2 = await put(b, 'k', 'second version, long enough to be a file');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v1.VersionId }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    await new Promise((r) => setTimeout(r, 5));
    await server.jobs.runNow({ graceMs: 0 });
    assert.equal(await text(b, 'k', v2.VersionId), 'second version, long enough to be a file');
  });

  it('PutObject by 32 clients at once makes 32 versions, each readable byte-exact by its id', async () => {
    const b = await bucket('Enabled');
    const bodies = Array.from({ length: 32 }, (_, i) => `writer ${i} `.repeat(10 + i));
    const puts = await Promise.all(bodies.map((body) => put(b, 'hot', body)));
    const ids = puts.map((p) => p.VersionId!);
    assert.equal(new Set(ids).size, 32);
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.equal(list.Versions?.length, 32);
    assert.deepEqual(new Set(list.Versions!.map((v) => v.VersionId)), new Set(ids));
    assert.deepEqual(list.Versions!.map((v) => v.IsLatest), [true, ...Array(31).fill(false)]);
    const texts = await Promise.all(ids.map((id) => text(b, 'hot', id)));
    assert.deepEqual(texts, bodies);
    const latest = list.Versions![0].VersionId!;
    assert.equal(await text(b, 'hot'), bodies[ids.indexOf(latest)]);
    // The latest is the last commit: every other version was written before it.
    const seqs = await Promise.all(ids.map(async (id) => (await server.deps.meta.getVersion(b, 'hot', id))!.seq));
    assert.equal(Math.max(...seqs), seqs[ids.indexOf(latest)]);
  });
});
