/**
 * Answers where Tessera once differed from AWS (found by a conformance run):
 * each case states what AWS does.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeletePublicAccessBlockCommand, UploadPartCommand, GetBucketPolicyStatusCommand, GetObjectCommand, HeadObjectCommand, PutBucketPolicyCommand,
  PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { errorCode, raw, xmlField } from './raw-signed.js';

describe('AWS divergences', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('div');
  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'data', ServerSideEncryption: 'AES256' }));
  });
  after(() => close?.());

  for (const value of ['AES256', 'aws:kms']) {
    it(`GetObject and HeadObject naming x-amz-server-side-encryption: ${value} are 400 InvalidArgument`, async () => {
      const get = await raw(server, { method: 'GET', path: `/${Bucket}/k`, headers: { 'x-amz-server-side-encryption': value } });
      assert.equal(get.status, 400);
      assert.equal(errorCode(get.body), 'InvalidArgument');
      assert.equal(xmlField(get.body, 'Message'), 'x-amz-server-side-encryption header is not supported for this operation.');
      const head = await raw(server, { method: 'HEAD', path: `/${Bucket}/k`, headers: { 'x-amz-server-side-encryption': value } });
      assert.equal(head.status, 400);
    });
  }

  it('GetObject without the header reads the SSE-S3 object and says it is encrypted', async () => {
    const r = await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }));
    assert.equal(r.ServerSideEncryption, 'AES256');
    assert.equal(await r.Body!.transformToString(), 'data');
  });

  it('Content-Encoding comes back as sent ("deflate, gzip"), less aws-chunked', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'enc', Body: 'x', ContentEncoding: 'deflate, gzip' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'enc' }))).ContentEncoding, 'deflate, gzip');
    const chunked = await raw(server, { method: 'PUT', path: `/${Bucket}/enc2`, body: 'y', headers: { 'content-encoding': 'aws-chunked, gzip' } });
    assert.equal(chunked.status, 200);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'enc2' }))).ContentEncoding, 'gzip');
  });

  it('GetBucketPolicyStatus: NoSuchBucketPolicy without a policy; IsPublic for a policy granting everyone, not for one naming an account', async () => {
    const b = bucketName('pstatus');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const none = await s3Error(() => s3.send(new GetBucketPolicyStatusCommand({ Bucket: b })));
    assert.equal(none.status, 404);
    assert.equal(none.name, 'NoSuchBucketPolicy');
    const policy = (Principal: unknown) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }] });
    await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policy({ AWS: 'arn:aws:iam::123456789012:root' }) }));
    assert.equal((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic, false);
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policy('*') }));
    assert.equal((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic, true);
  });

  it('CompleteMultipartUpload of a COMPOSITE upload checks a declared whole-object checksum: a wrong one is BadDigest, the right one (with or without -N) completes', async () => {
    const sha = (b: Buffer) => createHash('sha256').update(b).digest();
    const parts = [Buffer.alloc(5 << 20, 1), Buffer.from('tail')];
    const composite = createHash('sha256').update(Buffer.concat(parts.map(sha))).digest('base64');
    const upload = async (Key: string) => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: 'SHA256', ChecksumType: 'COMPOSITE' }));
      const done = await Promise.all(parts.map((Body, i) => s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'SHA256' }))));
      return (ChecksumSHA256: string) => s3.send(new CompleteMultipartUploadCommand({
        Bucket, Key, UploadId, ChecksumSHA256, ChecksumType: 'COMPOSITE',
        MultipartUpload: { Parts: done.map((d, i) => ({ PartNumber: i + 1, ETag: d.ETag, ChecksumSHA256: d.ChecksumSHA256 })) },
      }));
    };
    const wrong = await s3Error(async () => (await upload('c1'))(sha(Buffer.from('other')).toString('base64')));
    assert.equal(wrong.status, 400);
    assert.equal(wrong.name, 'BadDigest');
    assert.equal(wrong.message, 'The sha256 you specified did not match the calculated checksum.');
    assert.equal((await (await upload('c2'))(composite)).ChecksumSHA256, `${composite}-2`);
    assert.equal((await (await upload('c3'))(`${composite}-2`)).ChecksumSHA256, `${composite}-2`);
  });
});
