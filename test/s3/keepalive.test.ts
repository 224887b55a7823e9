import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand,
  UploadPartCommand, UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';

/**
 * With keepAliveAfterMs = 0 every Complete and copy answers the long way:
 * 200 at once, whitespace, then the result or an <Error> document. The SDK
 * must read the result or the error out of the body.
 */
describe('long-running answers', () => {
  let env: Awaited<ReturnType<typeof liveServer>>;
  const bucket = bucketName('keepalive');
  before(async () => {
    env = await liveServer({ keepAliveAfterMs: 0, minPartSize: 1 });
    await env.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await env.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: 'source bytes' }));
  });
  after(() => env.close());

  it('CompleteMultipartUpload result read from a 200 body', async () => {
    const { UploadId } = await env.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const p1 = await env.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'hello ' }));
    const p2 = await env.s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 2, CopySource: `${bucket}/src` }));
    assert.match(p2.CopyPartResult?.ETag ?? '', /^"[0-9a-f]{32}"$/);
    const done = await env.s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: 'mp', UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult!.ETag }] },
    }));
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
    const got = await env.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp' }));
    assert.equal(await got.Body!.transformToString(), 'hello source bytes');
  });

  it('CompleteMultipartUpload error delivered inside a 200 body', async () => {
    const { UploadId } = await env.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'bad' }));
    const e = await s3Error(() => env.s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: 'bad', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0123456789abcdef0123456789abcdef"' }] },
    })));
    assert.equal(e.name, 'InvalidPart');
  });

  it('UploadPartCopy error delivered inside a 200 body', async () => {
    const { UploadId } = await env.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'cp' }));
    const e = await s3Error(() => env.s3.send(new UploadPartCopyCommand({
      Bucket: bucket, Key: 'cp', UploadId, PartNumber: 1, CopySource: `${bucket}/src`, CopySourceIfMatch: '"ffffffffffffffffffffffffffffffff"',
    })));
    assert.equal(e.name, 'PreconditionFailed');
  });
});
