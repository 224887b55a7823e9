import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, DeleteObjectCommand, GetObjectTaggingCommand,
  type ChecksumAlgorithm, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { errorCode, raw, xmlField } from './raw-signed.js';

/** What AWS answered for the body `test data..` (oracle: test_put_object_checksum). */
const BODY = 'test data..';
const AWS_SUMS: Record<string, string> = {
  CRC32: 'cZWHwQ==',
  CRC32C: 'Pf4upw==',
  CRC64NVME: 'qUVrWYOrIAM=',
  SHA1: 'B++3uSfJMSHWToQMQ1g6lIJY5Eo=',
  SHA256: '2l26x0trnT0r2AvakoFk2MB7eKVKzYESLMxSAKAzoik=',
};
const field = (alg: string) => `Checksum${alg}` as 'ChecksumCRC32';

describe('PutObject checksums', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const bucket = bucketName('sum');
  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(() => close());

  for (const alg of Object.keys(AWS_SUMS)) {
    it(`PutObject with ChecksumAlgorithm ${alg} stores it; GET and HEAD return it with x-amz-checksum-mode ENABLED`, async () => {
      const key = `alg-${alg}`;
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: BODY, ChecksumAlgorithm: alg as ChecksumAlgorithm }));
      assert.equal(put[field(alg)], AWS_SUMS[alg]);
      assert.equal(put.ChecksumType, 'FULL_OBJECT');
      assert.equal(put.ETag, '"e6d9226c2a86b7232933663c13467527"');
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal(head[field(alg)], AWS_SUMS[alg]);
      assert.equal(head.ChecksumType, 'FULL_OBJECT');
      const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal(get[field(alg)], AWS_SUMS[alg]);
      assert.equal(await get.Body!.transformToString(), BODY);
      const plain = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(plain[field(alg)], undefined, 'no checksum without checksum mode');
    });

    it(`PutObject with a given x-amz-checksum-${alg.toLowerCase()} value verifies it: right succeeds, wrong is BadDigest`, async () => {
      const ok = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `given-${alg}`, Body: BODY, [field(alg)]: AWS_SUMS[alg] }));
      assert.equal(ok[field(alg)], AWS_SUMS[alg]);
      const wrongValue = AWS_SUMS[alg === 'CRC32' ? 'CRC32C' : 'CRC32'];
      const sameLength = Buffer.alloc(Buffer.from(AWS_SUMS[alg], 'base64').length, 7).toString('base64');
      const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `wrong-${alg}`, Body: BODY, [field(alg)]: sameLength })));
      assert.equal(e.name, 'BadDigest', alg);
      assert.equal(e.status, 400);
      assert.equal(e.message, `The ${alg} you specified did not match the calculated checksum.`);
      assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `wrong-${alg}` })))).status, 404);
      const bad = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `bad-${alg}`, Body: BODY, [field(alg)]: wrongValue + 'x' })));
      assert.equal(bad.name, 'InvalidRequest');
      assert.equal(bad.message, `Value for x-amz-checksum-${alg.toLowerCase()} header is invalid.`);
    });
  }

  it('PutObject with two checksum headers is InvalidRequest', async () => {
    const r = await raw(server, {
      method: 'PUT', path: `/${bucket}/two`, body: BODY,
      headers: { 'x-amz-checksum-crc32': AWS_SUMS.CRC32, 'x-amz-checksum-sha256': AWS_SUMS.SHA256 },
    });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'InvalidRequest');
    assert.equal(xmlField(r.body, 'Message'), 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  });

  it('PutObject without any checksum stores a CRC64NVME, as AWS does', async () => {
    const r = await raw(server, { method: 'PUT', path: `/${bucket}/nosum`, body: BODY });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-amz-checksum-crc64nvme'], AWS_SUMS.CRC64NVME);
    assert.equal(r.headers['x-amz-checksum-type'], 'FULL_OBJECT');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'nosum', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumCRC64NVME, AWS_SUMS.CRC64NVME);
  });

  it('PutObject of a stream sends an aws-chunked body with a trailing checksum, verified and stored', async () => {
    const put = await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'stream', Body: Readable.from([Buffer.from(BODY)]), ContentLength: BODY.length,
      ChecksumAlgorithm: 'SHA256',
    }));
    assert.equal(put.ChecksumSHA256, AWS_SUMS.SHA256);
    const get = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'stream', ChecksumMode: 'ENABLED' }));
    assert.equal(get.ChecksumSHA256, AWS_SUMS.SHA256);
    assert.equal(await get.Body!.transformToString(), BODY);
  });

  it('PutObject with an aws-chunked body whose trailing checksum is wrong is BadDigest and stores nothing', async () => {
    const body = `${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\nx-amz-checksum-crc32:${AWS_SUMS.CRC32C}\r\n\r\n`;
    const r = await raw(server, {
      method: 'PUT', path: `/${bucket}/trailer-bad`, body, payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(BODY.length), 'x-amz-trailer': 'x-amz-checksum-crc32' },
    });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'BadDigest');
    assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'trailer-bad' })))).status, 404);
    const good = body.replace(AWS_SUMS.CRC32C, AWS_SUMS.CRC32);
    const ok = await raw(server, {
      method: 'PUT', path: `/${bucket}/trailer-good`, body: good, payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(BODY.length), 'x-amz-trailer': 'x-amz-checksum-crc32' },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-amz-checksum-crc32'], AWS_SUMS.CRC32);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'trailer-good', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ContentEncoding, undefined, 'aws-chunked is framing, not the object encoding');
    assert.equal(head.ContentLength, BODY.length);
  });
});

describe('PutObject conditional writes', () => {
  let s3: S3Client;
  let close: () => Promise<void>;
  const bucket = bucketName('cw');
  before(async () => {
    ({ s3, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(() => close());

  it('PutObject If-None-Match * creates once, then is 412 PreconditionFailed; after delete it succeeds again', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inm', Body: 'first', IfNoneMatch: '*' }));
    const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inm', Body: 'second', IfNoneMatch: '*' })));
    assert.equal(e.name, 'PreconditionFailed');
    assert.equal(e.status, 412);
    assert.equal(e.message, 'At least one of the pre-conditions you specified did not hold');
    assert.equal(e.raw.Condition, 'If-None-Match');
    const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'inm' }));
    assert.equal(await g.Body!.transformToString(), 'first');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'inm' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inm', Body: 'third', IfNoneMatch: '*' }));
  });

  it('PutObject If-Match with the current ETag overwrites; a stale one is 412; on a missing key it is NoSuchKey', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'im', Body: 'test' }));
    assert.equal(first.ETag, '"098f6bcd4621d373cade4e832627b4f6"');
    const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'im', Body: 'x', IfMatch: '"d41d8cd98f00b204e9800998ecf8427e"' })));
    assert.equal(e.name, 'PreconditionFailed');
    assert.equal(e.raw.Condition, 'If-Match');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'im', Body: '', IfMatch: first.ETag }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'im' }));
    const missing = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'im', Body: 'x', IfMatch: first.ETag })));
    assert.equal(missing.name, 'NoSuchKey');
    assert.equal(missing.status, 404);
    assert.equal(missing.raw.Key, 'im');
  });

  it('PutObject If-None-Match other than *, If-Match *, or both headers is 501 NotImplemented', async () => {
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ IfNoneMatch: '"abc"' }, 'If-None-Match', "We don't accept the provided value of If-None-Match header for this API"],
      [{ IfMatch: '*' }, 'If-Match', "We don't accept the provided value of If-Match header for this API"],
      [{ IfMatch: '"abc"', IfNoneMatch: '*' }, 'If-Match,If-None-Match', 'Multiple conditional request headers present in the request'],
    ];
    for (const [extra, header, additional] of cases) {
      const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ni', Body: 'x', ...extra })));
      assert.equal(e.name, 'NotImplemented');
      assert.equal(e.status, 501);
      assert.equal(e.message, 'A header you provided implies functionality that is not implemented');
      assert.equal(e.raw.Header, header);
      assert.equal(e.raw.additionalMessage, additional);
    }
  });

  it('PutObject with x-amz-tagging stores the tags: x-amz-tagging-count on GET, GetObjectTagging lists them', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tagged', Body: 'x', Tagging: 'k1=v1&k%202=v%2F2' }));
    const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'tagged' }));
    assert.equal(g.TagCount, 2);
    const t = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
    assert.deepEqual(t.TagSet, [{ Key: 'k1', Value: 'v1' }, { Key: 'k 2', Value: 'v/2' }]);
  });
});
