import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand,
  GetObjectCommand, HeadObjectCommand, ListPartsCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import { errorCode, raw } from './raw-signed.js';
import type { RunningServer } from '../../src/index.js';

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
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('mpu');

  before(async () => {
    ({ s3, server, close } = await liveServer({ minPartSize: MIN }));
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
  it('CompleteMultipartUpload with an empty or unparsable part list is MalformedXML', async () => {
    const { UploadId } = await upload('malformed', [bytes(3, 1)]);
    for (const body of ['<CompleteMultipartUpload/>', '<CompleteMultipartUpload><Part>', 'not xml', '<Other><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Other>']) {
      const r = await raw(server, { method: 'POST', path: `/${Bucket}/malformed`, query: { uploadId: UploadId }, body });
      assert.equal(r.status, 400, body);
      assert.equal(errorCode(r.body), 'MalformedXML', body);
    }
  });

  it('CompleteMultipartUpload with x-amz-mp-object-size checks the total size', async () => {
    const parts = [bytes(4, 1)];
    const { UploadId, done } = await upload('mpsize', parts);
    const e = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'mpsize', UploadId, MpuObjectSize: 5, MultipartUpload: { Parts: done } })));
    assert.equal(e.name, 'InvalidRequest');
    assert.equal(e.message, "The provided 'x-amz-mp-object-size' header value 5 does not match what was computed: 4");
    const r = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'mpsize', UploadId, MpuObjectSize: 4, MultipartUpload: { Parts: done } }));
    assert.equal(r.ETag, multipartEtag(parts));
  });

  it('UploadPart with a part number out of 1..10000 is InvalidArgument; another key or bucket is NoSuchUpload', async () => {
    const { UploadId } = await upload('numbers', []);
    for (const PartNumber of [0, 10001]) {
      const e = await s3Error(() => s3.send(new UploadPartCommand({ Bucket, Key: 'numbers', UploadId, PartNumber, Body: 'x' })));
      assert.equal(e.name, 'InvalidArgument');
      assert.equal(e.message, 'Part number must be an integer between 1 and 10000, inclusive');
      assert.equal(e.raw.ArgumentName, 'partNumber');
      assert.equal(e.raw.ArgumentValue, String(PartNumber));
    }
    const r = await s3.send(new UploadPartCommand({ Bucket, Key: 'numbers', UploadId, PartNumber: 10000, Body: 'x' }));
    assert.ok(r.ETag);
    const other = await s3Error(() => s3.send(new UploadPartCommand({ Bucket, Key: 'numbers-other', UploadId, PartNumber: 1, Body: 'x' })));
    assert.equal(other.name, 'NoSuchUpload');
    assert.equal(other.raw.UploadId, UploadId);
    const Bucket2 = bucketName('mpu2');
    await s3.send(new CreateBucketCommand({ Bucket: Bucket2 }));
    const elsewhere = await s3Error(() => s3.send(new UploadPartCommand({ Bucket: Bucket2, Key: 'numbers', UploadId, PartNumber: 1, Body: 'x' })));
    assert.equal(elsewhere.name, 'NoSuchUpload');
  });

  it('UploadPart twice with the same number keeps the second; Complete needs its ETag', async () => {
    const { UploadId, done } = await upload('replace', [bytes(7, 1)]);
    const second = bytes(9, 2);
    const r = await s3.send(new UploadPartCommand({ Bucket, Key: 'replace', UploadId, PartNumber: 1, Body: second }));
    const stale = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'replace', UploadId, MultipartUpload: { Parts: done } })));
    assert.equal(stale.name, 'InvalidPart');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'replace', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r.ETag }] } }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'replace' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), second);
  });

  it('GetObject with a range across part boundaries returns the right bytes', async () => {
    const parts = [bytes(MIN, 1), bytes(MIN, 2), bytes(100, 3)];
    const { UploadId, done } = await upload('ranges', parts);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'ranges', UploadId, MultipartUpload: { Parts: done } }));
    const whole = Buffer.concat(parts);
    for (const [a, b] of [[MIN - 10, MIN + 10], [MIN - 1, 2 * MIN + 50], [0, whole.length - 1]]) {
      const r = await s3.send(new GetObjectCommand({ Bucket, Key: 'ranges', Range: `bytes=${a}-${b}` }));
      assert.deepEqual(Buffer.from(await r.Body!.transformToByteArray()), whole.subarray(a, b + 1));
      assert.equal(r.ContentRange, `bytes ${a}-${b}/${whole.length}`);
    }
    const e = await s3Error(() => s3.send(new GetObjectCommand({ Bucket, Key: 'ranges', PartNumber: 4 })));
    assert.equal(e.status, 416);
    assert.equal(e.name, 'InvalidPartNumber');
  });

  it('lib-storage Upload of a multi-part body: bytes and multipart ETag', async () => {
    const body = Buffer.concat([bytes(5 * 1024 * 1024, 1), bytes(5 * 1024 * 1024, 2), bytes(300 * 1024, 3)]);
    const up = new Upload({ client: s3, params: { Bucket, Key: 'lib-storage', Body: body }, partSize: 5 * 1024 * 1024, queueSize: 2 });
    const r = await up.done();
    const parts = [body.subarray(0, 5 << 20), body.subarray(5 << 20, 10 << 20), body.subarray(10 << 20)];
    assert.equal(r.ETag, multipartEtag(parts));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'lib-storage' }));
    assert.equal(got.ETag, multipartEtag(parts));
    const back = Buffer.from(await got.Body!.transformToByteArray());
    assert.equal(createHash('md5').update(back).digest('hex'), createHash('md5').update(body).digest('hex'));
  });
  it('UploadPart declaring more than 5 GiB is EntityTooLarge before any byte is read', async () => {
    const { UploadId } = await upload('huge', []);
    const size = 5 * 1024 ** 3 + 1;
    const r = await raw(server, { method: 'PUT', path: `/${Bucket}/huge`, query: { partNumber: '1', uploadId: UploadId }, headers: { 'content-length': String(size) }, payloadHash: 'UNSIGNED-PAYLOAD' });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'EntityTooLarge');
    assert.match(r.body, new RegExp(`<ProposedSize>${size}</ProposedSize>`));
  });
});

describe('CompleteMultipartUpload retry window', () => {
  it('CompleteMultipartUpload retried after the window is NoSuchUpload', async () => {
    const { s3, close } = await liveServer({ completeRetryWindowMs: 0 });
    try {
      const Bucket = bucketName('mpw');
      await s3.send(new CreateBucketCommand({ Bucket }));
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'k' }));
      const { ETag } = await s3.send(new UploadPartCommand({ Bucket, Key: 'k', UploadId, PartNumber: 1, Body: 'x' }));
      const input = { Bucket, Key: 'k', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } };
      await s3.send(new CompleteMultipartUploadCommand(input));
      await new Promise((ok) => setTimeout(ok, 5));
      const e = await s3Error(() => s3.send(new CompleteMultipartUploadCommand(input)));
      assert.equal(e.name, 'NoSuchUpload');
    } finally {
      await close();
    }
  });
});
