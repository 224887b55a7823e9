import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, GetObjectTaggingCommand,
  ListPartsCommand, PutBucketVersioningCommand, PutObjectCommand, UploadPartCopyCommand, type CopyObjectCommandInput, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import { newVersionId } from '../../src/api/object/versions.js';

const IN_PLACE = "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.";
const md5 = (s: string) => `"${createHash('md5').update(s).digest('hex')}"`;

/**
 * Copies from and into versioned buckets (oracle test_s3.snapshot.json:
 * test_s3_copy_object_src_not_exists, test_s3_copy_object_in_place_versioned,
 * ..._in_place_suspended_only, test_s3_copy_tagging_directive_versioned;
 * test_s3_api.snapshot.json: test_copy_object_if_*_versioned_bucket).
 */
describe('CopyObject and UploadPartCopy with versions', () => {
  let s3: S3Client;
  let close: () => Promise<void>;

  before(async () => {
    ({ s3, close } = await liveServer());
  });
  after(() => close());

  async function bucket(status?: 'Enabled' | 'Suspended') {
    const Bucket = bucketName('cpv');
    await s3.send(new CreateBucketCommand({ Bucket }));
    if (status) await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: status } }));
    return Bucket;
  }
  const versioning = (Bucket: string, Status: 'Enabled' | 'Suspended') => s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status } }));
  const cp = (Bucket: string, Key: string, CopySource: string, extra: Partial<CopyObjectCommandInput> = {}) =>
    s3.send(new CopyObjectCommand({ Bucket, Key, CopySource, ...extra }));
  const read = async (Bucket: string, Key: string, VersionId?: string) =>
    (await (await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body!.transformToString());

  it('CopyObject from a current delete marker -> 404 NoSuchKey; naming a delete marker -> 400 InvalidRequest; naming a version copies it (recorded)', async () => {
    const Bucket = await bucket('Enabled');
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'random-src-key', Body: '' }));
    const del = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'random-src-key' }));
    assert.equal(del.DeleteMarker, true);
    const current = await s3Error(() => cp(Bucket, 'dst', `${Bucket}/random-src-key`));
    assert.equal(current.status, 404);
    assert.equal(current.name, 'NoSuchKey');
    assert.equal(current.raw.Key, 'random-src-key');
    const marker = await s3Error(() => cp(Bucket, 'dst', `${Bucket}/random-src-key?versionId=${del.VersionId}`));
    assert.equal(marker.status, 400);
    assert.equal(marker.name, 'InvalidRequest');
    assert.equal(marker.message, 'The source of a copy request may not specifically refer to a delete marker by version id.');
    const ok = await cp(Bucket, 'dst', `${Bucket}/random-src-key?versionId=${put.VersionId}`);
    assert.equal(ok.CopyObjectResult!.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
    assert.equal(ok.CopySourceVersionId, put.VersionId);
    assert.ok(ok.VersionId && ok.VersionId !== put.VersionId && ok.VersionId !== 'null');
  });

  it('CopyObject naming an unknown version -> 404 NoSuchVersion; a malformed one -> 400 InvalidArgument', async () => {
    const Bucket = await bucket('Enabled');
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const unknown = newVersionId();
    const e = await s3Error(() => cp(Bucket, 'dst', `${Bucket}/k?versionId=${unknown}`));
    assert.equal(e.status, 404);
    assert.equal(e.name, 'NoSuchVersion');
    assert.equal(e.raw.VersionId, unknown);
    const bad = await s3Error(() => cp(Bucket, 'dst', `${Bucket}/k?versionId=not-a-version`));
    assert.equal(bad.status, 400);
    assert.equal(bad.name, 'InvalidArgument');
  });

  it('CopyObject of an older version restores it as the newest, with its own tags (recorded)', async () => {
    const Bucket = await bucket('Enabled');
    const v1 = await s3.send(new PutObjectCommand({ Bucket, Key: 'source-object', Body: 'test', Tagging: 'key1=value1' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket, Key: 'source-object', Body: 'test-v2', Tagging: 'key1=value1-v2' }));
    const latest = await cp(Bucket, 'copy', `${Bucket}/source-object`);
    assert.equal(latest.CopySourceVersionId, v2.VersionId);
    assert.equal(latest.CopyObjectResult!.ETag, md5('test-v2'));
    const old = await cp(Bucket, 'copy', `${Bucket}/source-object?versionId=${v1.VersionId}`);
    assert.equal(old.CopySourceVersionId, v1.VersionId);
    assert.equal(old.CopyObjectResult!.ETag, md5('test'));
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'copy' }));
    assert.deepEqual(tags.TagSet, [{ Key: 'key1', Value: 'value1' }]);
    assert.equal(tags.VersionId, old.VersionId);
    // an older version copied over its own key, unchanged, is a legal restore
    const restore = await cp(Bucket, 'source-object', `${Bucket}/source-object?versionId=${v1.VersionId}`);
    assert.equal(restore.CopySourceVersionId, v1.VersionId);
    assert.equal(await read(Bucket, 'source-object'), 'test');
    assert.equal(await read(Bucket, 'source-object', v2.VersionId), 'test-v2');
  });

  it('CopyObject in place in a versioned, then suspended, then re-enabled bucket (recorded)', async () => {
    const Bucket = await bucket('Enabled');
    const v1 = await s3.send(new PutObjectCommand({ Bucket, Key: 'source-object', Body: '{"key": "value"}', ContentType: 'application/json', Metadata: { key: 'value' } }));
    const same = await s3Error(() => cp(Bucket, 'source-object', `${Bucket}/source-object`));
    assert.equal(same.message, IN_PLACE);
    const c1 = await cp(Bucket, 'source-object', `${Bucket}/source-object`, { MetadataDirective: 'REPLACE' });
    assert.equal(c1.CopySourceVersionId, v1.VersionId);
    assert.equal(c1.CopyObjectResult!.ChecksumCRC32, 'MzVIGw==');
    assert.ok(c1.VersionId && c1.VersionId !== v1.VersionId);
    await versioning(Bucket, 'Suspended');
    const c2 = await cp(Bucket, 'source-object', `${Bucket}/source-object`, { MetadataDirective: 'REPLACE' });
    assert.equal(c2.CopySourceVersionId, c1.VersionId);
    assert.equal(c2.VersionId, 'null');
    assert.equal(await read(Bucket, 'source-object', c1.VersionId), '{"key": "value"}');
    await versioning(Bucket, 'Enabled');
    const c3 = await cp(Bucket, 'source-object', `${Bucket}/source-object`, { MetadataDirective: 'REPLACE' });
    assert.equal(c3.CopySourceVersionId, undefined); // the source is the null version
    assert.ok(c3.VersionId && c3.VersionId !== 'null');
  });

  it('CopyObject in place in a bucket that was never versioned, then suspended (recorded)', async () => {
    const Bucket = await bucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'source-object', Body: '{"key": "value"}' }));
    const c1 = await cp(Bucket, 'source-object', `${Bucket}/source-object`, { MetadataDirective: 'REPLACE' });
    assert.equal(c1.VersionId, undefined);
    assert.equal(c1.CopySourceVersionId, undefined);
    await versioning(Bucket, 'Suspended');
    for (let i = 0; i < 2; i++) {
      const c = await cp(Bucket, 'source-object', `${Bucket}/source-object`, { MetadataDirective: 'REPLACE' });
      assert.equal(c.VersionId, 'null');
      assert.equal(c.CopySourceVersionId, undefined);
    }
    assert.equal(await read(Bucket, 'source-object'), '{"key": "value"}');
  });

  it('CopyObject conditional writes in a versioned bucket see a delete marker as no object (recorded)', async () => {
    const Bucket = await bucket('Enabled');
    await s3.send(new PutObjectCommand({ Bucket, Key: 'source-object', Body: 'source content' }));
    const first = await cp(Bucket, 'dest-object', `${Bucket}/source-object`, { IfNoneMatch: '*' });
    const fail = await s3Error(() => cp(Bucket, 'dest-object', `${Bucket}/source-object`, { IfNoneMatch: '*' }));
    assert.equal(fail.raw.Condition, 'If-None-Match');
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'dest-object' }));
    const afterDelete = await cp(Bucket, 'dest-object', `${Bucket}/source-object`, { IfNoneMatch: '*' });
    assert.notEqual(afterDelete.VersionId, first.VersionId);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'dest-object' }));
    const noKey = await s3Error(() => cp(Bucket, 'dest-object', `${Bucket}/source-object`, { IfMatch: first.CopyObjectResult!.ETag }));
    assert.equal(noKey.name, 'NoSuchKey');
    assert.equal(noKey.raw.Key, 'dest-object');
  });

  it('UploadPartCopy of a given version copies that version and names it in x-amz-copy-source-version-id', async () => {
    const Bucket = await bucket('Enabled');
    const v1 = await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'version one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'version two!' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'dst' }));
    const p1 = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'dst', UploadId, PartNumber: 1, CopySource: `${Bucket}/src?versionId=${v1.VersionId}` }));
    assert.equal(p1.CopySourceVersionId, v1.VersionId);
    assert.equal(p1.CopyPartResult!.ETag, md5('version one'));
    const p2 = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'dst', UploadId, PartNumber: 2, CopySource: `${Bucket}/src`, CopySourceRange: 'bytes=8-10' }));
    assert.equal(p2.CopySourceVersionId, v2.VersionId);
    assert.equal(p2.CopyPartResult!.ETag, md5('two'));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'src' }));
    const marker = await s3Error(() => s3.send(new UploadPartCopyCommand({ Bucket, Key: 'dst', UploadId, PartNumber: 3, CopySource: `${Bucket}/src` })));
    assert.equal(marker.name, 'NoSuchKey');
    const parts = await s3.send(new ListPartsCommand({ Bucket, Key: 'dst', UploadId }));
    assert.deepEqual(parts.Parts!.map((p) => [p.PartNumber, p.Size]), [[1, 11], [2, 3]]);
  });
});
