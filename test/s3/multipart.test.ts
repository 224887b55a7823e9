import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand,
  GetObjectCommand, HeadObjectCommand, ListPartsCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';

/** Small parts: the minimum part size is lowered so tests stay light. */
const MIN = 64 * 1024;

function md5(b: Buffer): Buffer {
  return createHash('md5').update(b).digest();
}

/** The multipart ETag AWS computes: MD5 of the binary part MD5s, then -N. */
export function multipartEtag(parts: Buffer[]): string {
  return `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-${parts.length}"`;
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

describe('CompleteMultipartUpload', () => {
  let s3: S3Client;
  let close: () => Promise<void>;
  const Bucket = bucketName('mpu');

  before(async () => {
    ({ s3, close } = await liveServer({ minPartSize: MIN }));
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => close());

  async function upload(Key: string, parts: Buffer[]) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const done = [];
    for (let i = 0; i < parts.length; i++) {
      const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: parts[i] }));
      done.push({ PartNumber: i + 1, ETag: r.ETag! });
    }
    return { UploadId: UploadId!, done };
  }

  it('CompleteMultipartUpload joins the parts: bytes, ETag, Location, parts count', async () => {
    const parts = [bytes(MIN, 1), bytes(MIN + 5, 2), bytes(10, 3)];
    const { UploadId, done } = await upload('obj/a b', parts);
    const r = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'obj/a b', UploadId, MultipartUpload: { Parts: done } }));
    assert.equal(r.ETag, multipartEtag(parts));
    assert.equal(r.Bucket, Bucket);
    assert.equal(r.Key, 'obj/a b');
    assert.match(r.Location!, new RegExp(`/${Bucket}/obj/a%20b$`));
    assert.equal(r.ChecksumType, 'FULL_OBJECT');
    assert.ok(r.ChecksumCRC64NVME);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'obj/a b' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), Buffer.concat(parts));
    assert.equal(got.ETag, r.ETag);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'obj/a b', PartNumber: 2 }));
    assert.equal(head.PartsCount, 3);
    assert.equal(head.ContentLength, MIN + 5);
    assert.equal(head.ContentRange, `bytes ${MIN}-${2 * MIN + 4}/${2 * MIN + 15}`);
  });

  it('CompleteMultipartUpload with a part under the minimum is EntityTooSmall', async () => {
    const parts = [bytes(4, 1), bytes(4, 1)];
    const { UploadId, done } = await upload('small', parts);
    const e = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'small', UploadId, MultipartUpload: { Parts: done } })));
    assert.equal(e.status, 400);
    assert.equal(e.name, 'EntityTooSmall');
    assert.equal(e.raw.ProposedSize, '4');
    assert.equal(e.raw.MinSizeAllowed, String(MIN));
    assert.equal(e.raw.PartNumber, '1');
    assert.equal(e.raw.ETag, md5(parts[0]).toString('hex'));
  });

  it('CompleteMultipartUpload with a wrong ETag or a missing part is InvalidPart', async () => {
    const { UploadId, done } = await upload('wrong', [bytes(4, 1)]);
    let e = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'wrong', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: 'd41d8cd98f00b204e9800998ecf8427e' }] } })));
    assert.equal(e.name, 'InvalidPart');
    assert.equal(e.raw.UploadId, UploadId);
    assert.equal(e.raw.PartNumber, '1');
    assert.equal(e.raw.ETag, 'd41d8cd98f00b204e9800998ecf8427e');
    e = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'wrong', UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: done[0].ETag }] } })));
    assert.equal(e.name, 'InvalidPart');
    assert.equal(e.raw.PartNumber, '2');
  });

  it('CompleteMultipartUpload with parts out of order is InvalidPartOrder', async () => {
    const { UploadId, done } = await upload('order', [bytes(MIN, 1), bytes(MIN, 2)]);
    const e = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'order', UploadId, MultipartUpload: { Parts: [done[1], done[0]] } })));
    assert.equal(e.status, 400);
    assert.equal(e.name, 'InvalidPartOrder');
    assert.equal(e.raw.UploadId, UploadId);
  });

  it('CompleteMultipartUpload with no parts is InvalidRequest, then a retry with the same list gets the same answer', async () => {
    const parts = [bytes(MIN, 5), bytes(3, 6)];
    const { UploadId, done } = await upload('retry', parts);
    const e = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'retry', UploadId })));
    assert.equal(e.status, 400);
    assert.equal(e.name, 'InvalidRequest');
    assert.equal(e.message, 'You must specify at least one part');
    const first = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'retry', UploadId, MultipartUpload: { Parts: done } }));
    const again = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'retry', UploadId, MultipartUpload: { Parts: done } }));
    assert.equal(again.ETag, first.ETag);
    assert.equal(again.ETag, multipartEtag(parts));
    const other = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'retry', UploadId, MultipartUpload: { Parts: [done[0]] } })));
    assert.equal(other.name, 'NoSuchUpload');
    assert.equal(other.status, 404);
  });

  it('CompleteMultipartUpload may leave out a listed part; the object has only the listed ones', async () => {
    const parts = [bytes(MIN, 1), bytes(MIN, 2), bytes(7, 3)];
    const { UploadId, done } = await upload('omit', parts);
    const r = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'omit', UploadId, MultipartUpload: { Parts: [done[0], done[2]] } }));
    assert.equal(r.ETag, multipartEtag([parts[0], parts[2]]));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'omit' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), Buffer.concat([parts[0], parts[2]]));
    const gone = await s3Error(() => s3.send(new ListPartsCommand({ Bucket, Key: 'omit', UploadId })));
    assert.equal(gone.name, 'NoSuchUpload');
  });

  it('AbortMultipartUpload removes the upload; later calls are NoSuchUpload', async () => {
    const { UploadId } = await upload('abort', [bytes(5, 1)]);
    const r = await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'abort', UploadId }));
    assert.equal(r.$metadata.httpStatusCode, 204);
    for (const fn of [
      () => s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'abort', UploadId })),
      () => s3.send(new UploadPartCommand({ Bucket, Key: 'abort', UploadId, PartNumber: 1, Body: 'x' })),
      () => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'abort', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: 'x' }] } })),
    ]) {
      const e = await s3Error(fn);
      assert.equal(e.name, 'NoSuchUpload');
      assert.equal(e.raw.UploadId, UploadId);
    }
  });

  it('CompleteMultipartUpload replaces an existing object of the key', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'over', Body: 'old' }));
    const parts = [bytes(12, 9)];
    const { UploadId, done } = await upload('over', parts);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'over', UploadId, MultipartUpload: { Parts: done } }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'over' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), parts[0]);
  });
});
