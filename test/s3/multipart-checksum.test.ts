import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand,
  ListMultipartUploadsCommand, ListPartsCommand, UploadPartCommand, type ChecksumAlgorithm, type CompletedPart, type ChecksumType, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';

/**
 * Multipart checksums against recorded answers of AWS (oracle
 * test_s3.snapshot.json, TestS3MultipartUploadChecksum and TestS3): the
 * values below are what the real service returned for the same bytes.
 */
describe('Multipart checksums', () => {
  let s3: S3Client;
  let close: () => Promise<void>;
  const Bucket = bucketName('mpck');
  // 5 MiB + 1 of 'a' twice and 'aaaaaaaaaa': the oracle's parts.
  const big = Buffer.alloc(5242881, 'a');
  const tail = Buffer.alloc(10, 'a');

  before(async () => {
    ({ s3, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => close());

  async function create(Key: string, ChecksumAlgorithm?: ChecksumAlgorithm, ChecksumType?: ChecksumType) {
    const r = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm, ChecksumType }));
    return r.UploadId!;
  }

  it('CompleteMultipartUpload COMPOSITE CRC32: part checksums, ListParts, composite value, GET partNumber', async () => {
    const Key = 'composite';
    const UploadId = await create(Key, 'CRC32', 'COMPOSITE');
    const parts: CompletedPart[] = [];
    for (const [i, body] of [big, big, tail].entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: 'CRC32' }));
      parts.push({ PartNumber: i + 1, ETag: r.ETag!, ChecksumCRC32: r.ChecksumCRC32! });
    }
    assert.deepEqual(parts.map((p) => p.ChecksumCRC32), ['NRU+Sw==', 'NRU+Sw==', 'TBHN8A==']);
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    assert.equal(listed.ChecksumAlgorithm, 'CRC32');
    assert.equal(listed.ChecksumType, 'COMPOSITE');
    assert.deepEqual(listed.Parts!.map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32]), [[1, 5242881, 'NRU+Sw=='], [2, 5242881, 'NRU+Sw=='], [3, 10, 'TBHN8A==']]);

    const wrong = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({
      Bucket, Key, UploadId, MultipartUpload: { Parts: [{ ...parts[0], ChecksumCRC32: 'TBHN8A==' }, parts[1], parts[2]] },
    })));
    assert.equal(wrong.name, 'InvalidPart');
    assert.equal(wrong.raw.PartNumber, '1');
    const missing = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({
      Bucket, Key, UploadId, MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
    })));
    assert.equal(missing.name, 'InvalidRequest');
    assert.equal(missing.message, 'The upload was created using a crc32 checksum. The complete request must include the checksum for each part. It was missing for part 1 in the request.');
    const mode = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, ChecksumType: 'FULL_OBJECT', MultipartUpload: { Parts: parts } })));
    assert.equal(mode.message, 'The upload was created using the COMPOSITE checksum mode. The complete request must use the same checksum mode.');

    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
    assert.equal(done.ChecksumCRC32, '5FRUiw==-3');
    assert.equal(done.ChecksumType, 'COMPOSITE');
    assert.equal(done.ETag, '"4d45984fc3feb2ac9b22683c49674b56-3"');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumCRC32, '5FRUiw==-3');
    assert.equal(head.ChecksumType, 'COMPOSITE');
    const part = await s3.send(new GetObjectCommand({ Bucket, Key, PartNumber: 3, ChecksumMode: 'ENABLED' }));
    assert.equal(await part.Body!.transformToString(), 'aaaaaaaaaa');
    assert.equal(part.$metadata.httpStatusCode, 206);
    assert.equal(part.ContentRange, 'bytes 10485762-10485771/10485772');
    assert.equal(part.PartsCount, 3);
    assert.equal(part.ChecksumCRC32, 'TBHN8A==');
    assert.equal(part.ChecksumType, 'COMPOSITE');
  });

  it('CompleteMultipartUpload FULL_OBJECT CRC32 combines part CRCs into the whole-object CRC', async () => {
    const Key = 'full';
    const UploadId = await create(Key, 'CRC32', 'FULL_OBJECT');
    const parts: CompletedPart[] = [];
    for (const [i, body] of [big, big, tail].entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: 'CRC32' }));
      parts.push({ PartNumber: i + 1, ETag: r.ETag! });
    }
    const bad = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, ChecksumCRC32: 'AAAAAA==', ChecksumType: 'FULL_OBJECT', MultipartUpload: { Parts: parts } })));
    assert.equal(bad.name, 'BadDigest');
    assert.equal(bad.message, 'The crc32 you specified did not match the calculated checksum.');
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
    assert.equal(done.ChecksumCRC32, 'qSEQSA==');
    assert.equal(done.ChecksumType, 'FULL_OBJECT');
    assert.equal(done.ETag, '"4d45984fc3feb2ac9b22683c49674b56-3"');
    const part = await s3.send(new GetObjectCommand({ Bucket, Key, PartNumber: 3, ChecksumMode: 'ENABLED' }));
    assert.equal(await part.Body!.transformToString(), 'aaaaaaaaaa');
    assert.equal(part.ChecksumCRC32, undefined);
  });

  it('CompleteMultipartUpload without an algorithm gives the default full-object CRC64NVME', async () => {
    const Key = 'default';
    const UploadId = await create(Key);
    const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'aaa', ChecksumAlgorithm: 'CRC32C' }));
    assert.equal(r.ChecksumCRC32C, '45fn2Q==');
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    assert.equal(listed.ChecksumAlgorithm, undefined);
    assert.equal(listed.Parts![0].ChecksumCRC32C, undefined);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: Key }));
    assert.equal(uploads.Uploads![0].ChecksumAlgorithm, undefined);
    const withChecksum = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r.ETag, ChecksumCRC32C: r.ChecksumCRC32C }] } })));
    assert.equal(withChecksum.name, 'InvalidPart');
    const mode = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, ChecksumType: 'COMPOSITE', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r.ETag }] } })));
    assert.equal(mode.message, 'The upload was created using the null checksum mode. The complete request must use the same checksum mode.');
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r.ETag }] } }));
    assert.equal(done.ChecksumCRC64NVME, 'Rnr2/5P7Gsk=');
    assert.equal(done.ChecksumType, 'FULL_OBJECT');
    assert.equal(done.ETag, '"e2c3da976e66ec9e7dc128fbc782fc91-1"');
    const got = await s3.send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
    assert.equal(got.ChecksumCRC64NVME, 'Rnr2/5P7Gsk=');
    assert.equal(await got.Body!.transformToString(), 'aaa');
  });

  it('CompleteMultipartUpload COMPOSITE CRC32C of one part, and GET partNumber=1 with its checksum', async () => {
    const Key = 'crc32c';
    const UploadId = await create(Key, 'CRC32C', 'COMPOSITE');
    const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'test content 123', ChecksumAlgorithm: 'CRC32C' }));
    assert.equal(r.ChecksumCRC32C, 'fwuu0Q==');
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r.ETag, ChecksumCRC32C: r.ChecksumCRC32C }] } }));
    assert.equal(done.ChecksumCRC32C, 'sZB91Q==-1');
    assert.equal(done.ETag, '"b972025bc34adf8d76d6d51e93c035cc-1"');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key, PartNumber: 1, ChecksumMode: 'ENABLED' }));
    assert.equal(head.$metadata.httpStatusCode, 206);
    assert.equal(head.ContentRange, 'bytes 0-15/16');
    assert.equal(head.ChecksumCRC32C, 'fwuu0Q==');
    assert.equal(head.ChecksumType, 'COMPOSITE');
    assert.equal(head.PartsCount, 1);
  });

  it('UploadPart with another algorithm than the upload is InvalidRequest', async () => {
    const Key = 'mismatch';
    const UploadId = await create(Key, 'SHA256');
    const e = await s3Error(() => s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'abc', ChecksumAlgorithm: 'CRC32' })));
    assert.equal(e.name, 'InvalidRequest');
    assert.equal(e.message, 'Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: crc32');
  });

  it('CompleteMultipartUpload COMPOSITE with another algorithm named for a part is BadDigest', async () => {
    const Key = 'otheralg';
    const UploadId = await create(Key, 'CRC32');
    const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'abc' }));
    assert.equal(r.ChecksumCRC32, 'NSRBwg==');
    const e = await s3Error(() => s3.send(new CompleteMultipartUploadCommand({
      Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r.ETag, ChecksumSHA256: 'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=' }] },
    })));
    assert.equal(e.name, 'BadDigest');
    assert.equal(e.message, 'The sha256 you specified for part 1 did not match what we received.');
  });
});
