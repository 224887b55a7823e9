import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, PutObjectCommand,
  UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';

/**
 * Conditional CompleteMultipartUpload, as recorded from AWS
 * (test_s3_api.snapshot.json, TestS3ObjectWritePrecondition test_multipart_*):
 * a condition that fails is 412 (If-Match on a missing key: NoSuchKey); one
 * that holds while the key changed since the upload began is 409.
 */
describe('CompleteMultipartUpload conditions', () => {
  let s3: S3Client;
  let close: () => Promise<void>;
  const Bucket = bucketName('mpcond');

  before(async () => {
    ({ s3, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => close());

  async function start(Key: string) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'part' }));
    const complete = (h: { IfNoneMatch?: string; IfMatch?: string }) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] }, ...h }));
    return { UploadId: UploadId!, complete };
  }

  it('CompleteMultipartUpload If-None-Match: * over an existing object is PreconditionFailed', async () => {
    const Key = 'inm-exists';
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: '' }));
    const { complete } = await start(Key);
    const e = await s3Error(() => complete({ IfNoneMatch: '*' }));
    assert.equal(e.status, 412);
    assert.equal(e.name, 'PreconditionFailed');
    assert.equal(e.raw.Condition, 'If-None-Match');
  });

  it('CompleteMultipartUpload If-None-Match: * after the key was deleted during the upload is ConditionalRequestConflict', async () => {
    const Key = 'inm-deleted';
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: '' }));
    const { complete } = await start(Key);
    await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    const e = await s3Error(() => complete({ IfNoneMatch: '*' }));
    assert.equal(e.status, 409);
    assert.equal(e.name, 'ConditionalRequestConflict');
    assert.equal(e.raw.Condition, 'If-None-Match');
    assert.equal(e.raw.Key, Key);
    const again = await start(Key);
    const r = await again.complete({ IfNoneMatch: '*' });
    assert.equal(r.$metadata.httpStatusCode, 200);
  });

  it('CompleteMultipartUpload If-Match: a stale ETag is 412; the current one written during the upload is 409', async () => {
    const Key = 'im-put';
    const before = await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'test' }));
    const { complete } = await start(Key);
    const during = await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'changed' }));
    let e = await s3Error(() => complete({ IfMatch: before.ETag }));
    assert.equal(e.status, 412);
    assert.equal(e.raw.Condition, 'If-Match');
    e = await s3Error(() => complete({ IfMatch: during.ETag }));
    assert.equal(e.status, 409);
    assert.equal(e.name, 'ConditionalRequestConflict');
    assert.equal(e.raw.Condition, 'If-Match');
    const again = await start(Key);
    const r = await again.complete({ IfMatch: during.ETag });
    assert.equal(r.$metadata.httpStatusCode, 200);
  });

  it('CompleteMultipartUpload If-Match on a key deleted during the upload is NoSuchKey', async () => {
    const Key = 'im-deleted';
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'test' }));
    const { complete } = await start(Key);
    await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    const e = await s3Error(() => complete({ IfMatch: '"098f6bcd4621d373cade4e832627b4f6"' }));
    assert.equal(e.status, 404);
    assert.equal(e.name, 'NoSuchKey');
  });

  it('CompleteMultipartUpload If-Match with the ETag of an unchanged key succeeds', async () => {
    const Key = 'im-ok';
    const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'test' }));
    const { complete } = await start(Key);
    const r = await complete({ IfMatch: put.ETag });
    assert.equal(r.$metadata.httpStatusCode, 200);
  });
});
