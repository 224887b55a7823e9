import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  HeadObjectCommand, ListPartsCommand, PutObjectCommand, UploadPartCommand, UploadPartCopyCommand, type S3Client, type UploadPartCopyCommandInput,
} from '@aws-sdk/client-s3';
import type { RunningServer } from '../../src/index.js';
import { checksumBase64 } from '../../src/util/checksum.js';
import { bucketName, liveServer, s3Error } from '../helpers.js';

const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');
const RANGE_FORM = 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy';
const PRECONDITION = 'At least one of the pre-conditions you specified did not hold';

/**
 * UploadPartCopy: ranges, conditions, results and the state of the upload,
 * against the answers AWS recorded (oracle test_s3_api.snapshot.json,
 * TestS3Multipart::test_upload_part_copy_*, and test_s3.snapshot.json
 * test_multipart_upload_part_copy_checksum).
 */
describe('UploadPartCopy', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('upc');

  before(async () => {
    ({ s3, server, close } = await liveServer({ minPartSize: 1, inlineThreshold: 16 }));
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src-key', Body: '0123456789' }));
  });
  after(() => close());

  async function create(Key = 'test-upload-part-copy', extra: Record<string, unknown> = {}) {
    return (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ...extra }))).UploadId!;
  }
  const copy = (UploadId: string, extra: Partial<UploadPartCopyCommandInput> = {}) =>
    s3.send(new UploadPartCopyCommand({ Bucket, Key: 'test-upload-part-copy', UploadId, PartNumber: 1, CopySource: `${Bucket}/src-key`, ...extra }));
  const read = async (Key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray());

  it('UploadPartCopy ranges: part ETags are the MD5 of the copied bytes, ListParts shows their sizes (recorded)', async () => {
    const UploadId = await create();
    const etags: string[] = [];
    for (const [i, range] of ['0-8', '1-1', '0-0'].entries()) {
      const r = await copy(UploadId, { PartNumber: i + 1, CopySourceRange: `bytes=${range}` });
      assert.ok(r.CopyPartResult!.LastModified instanceof Date);
      assert.equal(r.CopySourceVersionId, undefined);
      etags.push(r.CopyPartResult!.ETag!);
    }
    assert.deepEqual(etags, ['"22975d8a5ed1b91445f6c55ac121505b"', '"c4ca4238a0b923820dcc509a6f75849b"', '"cfcd208495d565ef66e7dff9f98764da"']);
    const parts = await s3.send(new ListPartsCommand({ Bucket, Key: 'test-upload-part-copy', UploadId }));
    assert.deepEqual(parts.Parts!.map((p) => [p.PartNumber, p.ETag, p.Size]), [[1, etags[0], 9], [2, etags[1], 1], [3, etags[2], 1]]);
    const done = await s3.send(new CompleteMultipartUploadCommand({
      Bucket, Key: 'test-upload-part-copy', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }));
    assert.ok(done.ETag!.endsWith('-3"'));
    assert.equal((await read('test-upload-part-copy')).toString(), '01234567810');
  });

  it('UploadPartCopy range syntax errors are InvalidArgument naming the header and value (recorded)', async () => {
    const UploadId = await create();
    for (const value of ['0-8', 'bytes=1-0', 'bytes=-1-', 'bytes=0--1', 'bytes=0-1,3-4,7-9', 'bytes=-', 'bytes=-0', 'bytes=1-', 'bytes=-2', 'bytes=-15', 'bytes=2-1', '1-2', 'bytes=a-b', 'bytes=0-1,2-3', 'items=0-1']) {
      const e = await s3Error(() => copy(UploadId, { CopySourceRange: value }));
      assert.equal(e.status, 400, value);
      assert.equal(e.name, 'InvalidArgument', value);
      assert.equal(e.message, RANGE_FORM);
      assert.equal(e.raw.ArgumentName, 'x-amz-copy-source-range');
      assert.equal(e.raw.ArgumentValue ?? '', value);
    }
  });

  it('UploadPartCopy range past the end: last byte -> InvalidArgument with the size, first byte -> InvalidRequest (recorded)', async () => {
    const UploadId = await create();
    const last = await s3Error(() => copy(UploadId, { CopySourceRange: 'bytes=0-100' }));
    assert.equal(last.status, 400);
    assert.equal(last.name, 'InvalidArgument');
    assert.equal(last.message, 'Range specified is not valid for source object of size: 10');
    assert.equal(last.raw.ArgumentName, 'x-amz-copy-source-range');
    assert.equal(last.raw.ArgumentValue, 'bytes=0-100');
    for (const r of ['bytes=100-200', 'bytes=10-10']) {
      const first = await s3Error(() => copy(UploadId, { CopySourceRange: r }));
      assert.equal(first.status, 400);
      assert.equal(first.name, 'InvalidRequest');
      assert.equal(first.message, 'The specified copy range is invalid for the source object size');
    }
    const ok = await copy(UploadId, { CopySourceRange: 'bytes=9-9' });
    assert.equal(ok.CopyPartResult!.ETag, `"${md5('9')}"`);
  });

  it('UploadPartCopy without a range copies the whole source (recorded ETag and size)', async () => {
    const UploadId = await create();
    const r = await copy(UploadId);
    assert.equal(r.CopyPartResult!.ETag, '"781e5e245d69b566979b86e28d23f2c7"');
    const parts = await s3.send(new ListPartsCommand({ Bucket, Key: 'test-upload-part-copy', UploadId }));
    assert.deepEqual(parts.Parts!.map((p) => [p.PartNumber, p.ETag, p.Size]), [[1, '"781e5e245d69b566979b86e28d23f2c7"', 10]]);
  });

  describe('UploadPartCopy copy-source conditions', () => {
    let etag: string;
    let lastModified: Date;
    let UploadId: string;
    before(async () => {
      await s3.send(new PutObjectCommand({ Bucket, Key: 'cond-src', Body: 'conditions' }));
      await new Promise((ok) => setTimeout(ok, 1100));
      const head = await s3.send(new GetObjectCommand({ Bucket, Key: 'cond-src' }));
      await head.Body!.transformToByteArray();
      etag = head.ETag!;
      lastModified = head.LastModified!;
      UploadId = await create('destination_file.txt');
    });
    const cond = (extra: Partial<UploadPartCopyCommandInput>) =>
      s3.send(new UploadPartCopyCommand({ Bucket, Key: 'destination_file.txt', UploadId, PartNumber: 1, CopySource: `${Bucket}/cond-src`, ...extra }));
    const past = () => new Date(lastModified.getTime() - 60_000);
    const future = () => new Date(Date.now() + 86_400_000);

    async function fails(extra: Partial<UploadPartCopyCommandInput>, condition: string) {
      const e = await s3Error(() => cond(extra));
      assert.equal(e.status, 412);
      assert.equal(e.name, 'PreconditionFailed');
      assert.equal(e.message, PRECONDITION);
      assert.equal(e.raw.Condition, condition);
    }
    async function succeeds(extra: Partial<UploadPartCopyCommandInput>) {
      const r = await cond(extra);
      assert.equal(r.CopyPartResult!.ETag, etag);
    }

    it('UploadPartCopy if-match: matching copies, another ETag -> 412 x-amz-copy-source-If-Match (recorded)', async () => {
      await succeeds({ CopySourceIfMatch: etag });
      await succeeds({ CopySourceIfMatch: etag.replace(/"/g, '') });
      await fails({ CopySourceIfMatch: '"d41d8cd98f00b204e9800998ecf8427e"' }, 'x-amz-copy-source-If-Match');
    });
    it('UploadPartCopy if-none-match: another ETag copies, the same -> 412, never 304 (recorded)', async () => {
      await succeeds({ CopySourceIfNoneMatch: '"d41d8cd98f00b204e9800998ecf8427e"' });
      await fails({ CopySourceIfNoneMatch: etag }, 'x-amz-copy-source-If-None-Match');
    });
    it('UploadPartCopy if-unmodified-since: not modified copies, modified -> 412 (recorded)', async () => {
      await succeeds({ CopySourceIfUnmodifiedSince: new Date() });
      await fails({ CopySourceIfUnmodifiedSince: past() }, 'x-amz-copy-source-If-Unmodified-Since');
    });
    it('UploadPartCopy if-modified-since: modified copies, unmodified -> 412, a future date is ignored (recorded)', async () => {
      await succeeds({ CopySourceIfModifiedSince: past() });
      await fails({ CopySourceIfModifiedSince: new Date(Date.now() - 1000) }, 'x-amz-copy-source-If-Modified-Since');
      await succeeds({ CopySourceIfModifiedSince: future() });
    });
    it('UploadPartCopy combined conditions follow the documented rules (recorded)', async () => {
      // if-match true + if-unmodified-since false -> copy
      await succeeds({ CopySourceIfMatch: etag, CopySourceIfUnmodifiedSince: past() });
      // if-none-match false + if-modified-since true -> 412
      await fails({ CopySourceIfNoneMatch: etag, CopySourceIfModifiedSince: past() }, 'x-amz-copy-source-If-None-Match');
      // if-none-match true + if-unmodified-since false -> 412 naming If-Unmodified-Since
      await fails({ CopySourceIfNoneMatch: '"00000000000000000000000000000000"', CopySourceIfUnmodifiedSince: past() }, 'x-amz-copy-source-If-Unmodified-Since');
    });
    it('UploadPartCopy ignores copy-source dates that do not parse', async () => {
      const r = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'destination_file.txt', UploadId, PartNumber: 2, CopySource: `${Bucket}/cond-src` }));
      assert.equal(r.CopyPartResult!.ETag, etag);
      // The SDK only sends Dates; a raw garbage date is covered in the source-forms file.
    });
  });

  it('UploadPartCopy into an upload with a checksum algorithm carries the part checksum; Complete combines it (recorded)', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'part-src', Body: 'this is a part' }));
    for (const [type, whole] of [['COMPOSITE', 'F9bAnw==-1'], ['FULL_OBJECT', 'iqJrOQ==']] as const) {
      const Key = `test-multipart-checksum-${type}`;
      const UploadId = await create(Key, { ChecksumAlgorithm: 'CRC32C', ChecksumType: type });
      const r = await s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 1, CopySource: `${Bucket}/part-src` }));
      assert.equal(r.CopyPartResult!.ETag, '"11df95d595559285eb2b042124e74f09"');
      assert.equal(r.CopyPartResult!.ChecksumCRC32C, 'iqJrOQ==');
      const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
      assert.equal(listed.Parts![0].ChecksumCRC32C, 'iqJrOQ==');
      const done = await s3.send(new CompleteMultipartUploadCommand({
        Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r.CopyPartResult!.ETag, ChecksumCRC32C: 'iqJrOQ==' }] },
      }));
      assert.equal(done.ETag, '"395d97c07920de036bfa21e7568a2e9f-1"');
      assert.equal(done.ChecksumCRC32C, whole);
      assert.equal((await read(Key)).toString(), 'this is a part');
    }
  });

  it('UploadPartCopy into an upload without an algorithm: the object gets the default CRC64NVME of all its bytes, read once or derived', async () => {
    const data = Buffer.from('a copied source of some forty-odd bytes, inline-free');
    // One source keeps the default CRC64NVME, the other a CRC32: both blobs keep CRC-64/NVME checkpoints, so neither is read whole.
    await s3.send(new PutObjectCommand({ Bucket, Key: 'crc-default', Body: data, ChecksumAlgorithm: 'CRC64NVME' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'crc-32', Body: data, ChecksumAlgorithm: 'CRC32' }));
    const blobs = server.deps.blobs;
    const read = blobs.read.bind(blobs);
    let bytesRead = 0;
    let pooledBase = 0;
    blobs.read = (id, start, end) => {
      bytesRead += end - start;
      return read(id, start, end);
    };
    try {
      for (const [source, range, copied, reads] of [
        ['crc-default', undefined, data, 0], ['crc-32', undefined, data, 0], ['crc-default', 'bytes=3-20', data.subarray(3, 21), 18],
      ] as const) {
        const Key = `default-crc-${source}-${range ?? 'whole'}`;
        const UploadId = await create(Key);
        const uploaded = Buffer.from('the uploaded first part');
        const p1 = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: uploaded }));
        bytesRead = 0;
        pooledBase = server.deps.hashPool.fileBytesRead;
        const p2 = await s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 2, CopySource: `${Bucket}/${source}`, CopySourceRange: range }));
        // Read through the blob store or by a hashing thread.
        assert.equal(bytesRead + server.deps.hashPool.fileBytesRead - pooledBase, reads, `${Key}: bytes read`);
        assert.equal(p2.CopyPartResult!.ChecksumCRC64NVME, undefined, 'the default checksum is not answered');
        assert.equal(p2.CopyPartResult!.ETag, `"${md5(copied)}"`);
        const done = await s3.send(new CompleteMultipartUploadCommand({
          Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult!.ETag }] },
        }));
        const whole = checksumBase64('CRC64NVME', Buffer.concat([uploaded, copied]));
        assert.equal(done.ChecksumCRC64NVME, whole, Key);
        const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
        assert.equal(head.ChecksumCRC64NVME, whole, Key);
        assert.equal(head.ChecksumType, 'FULL_OBJECT');
      }
    } finally {
      blobs.read = read;
    }
  });

  it('UploadPartCopy with a range into a checksum upload computes the checksum of the range', async () => {
    const Key = 'ranged-checksum';
    const UploadId = await create(Key, { ChecksumAlgorithm: 'SHA256' });
    const r = await s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 1, CopySource: `${Bucket}/src-key`, CopySourceRange: 'bytes=2-5' }));
    assert.equal(r.CopyPartResult!.ChecksumSHA256, createHash('sha256').update('2345').digest('base64'));
    assert.equal(r.CopyPartResult!.ETag, `"${md5('2345')}"`);
  });

  it('UploadPartCopy with a part number used before replaces that part', async () => {
    const UploadId = await create();
    await s3.send(new UploadPartCommand({ Bucket, Key: 'test-upload-part-copy', UploadId, PartNumber: 1, Body: 'uploaded' }));
    await copy(UploadId, { CopySourceRange: 'bytes=3-4' });
    const parts = await s3.send(new ListPartsCommand({ Bucket, Key: 'test-upload-part-copy', UploadId }));
    assert.deepEqual(parts.Parts!.map((p) => [p.PartNumber, p.ETag, p.Size]), [[1, `"${md5('34')}"`, 2]]);
  });

  it('UploadPartCopy part numbers outside 1..10000 -> InvalidArgument', async () => {
    const UploadId = await create();
    for (const PartNumber of [0, 10001]) {
      const e = await s3Error(() => copy(UploadId, { PartNumber }));
      assert.equal(e.name, 'InvalidArgument');
      assert.equal(e.raw.ArgumentName, 'partNumber');
    }
  });

  it('UploadPartCopy to a missing upload, an aborted one, or one of another key -> 404 NoSuchUpload', async () => {
    const e = await s3Error(() => copy('no-such-upload'));
    assert.equal(e.status, 404);
    assert.equal(e.name, 'NoSuchUpload');
    const other = await create('another-key');
    assert.equal((await s3Error(() => copy(other))).name, 'NoSuchUpload');
    const aborted = await create();
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'test-upload-part-copy', UploadId: aborted }));
    assert.equal((await s3Error(() => copy(aborted))).name, 'NoSuchUpload');
  });

  it('UploadPartCopy from a missing bucket -> NoSuchBucket, from a missing key -> NoSuchKey', async () => {
    const UploadId = await create();
    const nb = await s3Error(() => copy(UploadId, { CopySource: 'no-such-bucket-tessera/src-key' }));
    assert.equal(nb.status, 404);
    assert.equal(nb.name, 'NoSuchBucket');
    assert.equal(nb.raw.BucketName, 'no-such-bucket-tessera');
    const nk = await s3Error(() => copy(UploadId, { CopySource: `${Bucket}/no-such-key` }));
    assert.equal(nk.status, 404);
    assert.equal(nk.name, 'NoSuchKey');
    assert.equal(nk.raw.Key, 'no-such-key');
  });

  it('UploadPartCopy checks x-amz-expected-bucket-owner and x-amz-source-expected-bucket-owner', async () => {
    const UploadId = await create();
    const r = await copy(UploadId, { ExpectedBucketOwner: '123456789012', ExpectedSourceBucketOwner: '123456789012' });
    assert.equal(r.CopyPartResult!.ETag, '"781e5e245d69b566979b86e28d23f2c7"');
    for (const extra of [{ ExpectedBucketOwner: '111111111111' }, { ExpectedSourceBucketOwner: '111111111111' }]) {
      const e = await s3Error(() => copy(UploadId, extra));
      assert.equal(e.status, 403);
      assert.equal(e.name, 'AccessDenied');
    }
  });

  it('UploadPartCopy accepts x-amz-request-payer and charges nothing on a bucket that is not requester-pays', async () => {
    const UploadId = await create();
    const r = await copy(UploadId, { RequestPayer: 'requester' });
    assert.equal(r.RequestCharged, undefined);
    assert.equal(r.CopyPartResult!.ETag, '"781e5e245d69b566979b86e28d23f2c7"');
  });
});
