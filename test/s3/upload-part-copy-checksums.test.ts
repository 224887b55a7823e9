/**
 * UploadPartCopy's CRC64NVME from stored checkpoints: a copied part's
 * checksum, derived from the source blobs' CRC-64/NVME prefix checkpoints
 * without reading the aligned middle, equals the CRC of the copied bytes at
 * every alignment, across blobs of a multipart source and from an inline
 * source; and a part that is exactly a whole blob is answered without reading
 * its file at all.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand,
  UploadPartCopyCommand, type S3Client,
} from '@aws-sdk/client-s3';
import type { RunningServer } from '../../src/index.js';
import { crc64nvme } from '../../src/util/crc64nvme.js';
import { bucketName, liveServer } from '../helpers.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('UploadPartCopy checksums from blob checkpoints', () => {
  let server: RunningServer;
  let s3: S3Client;
  let close: () => Promise<void>;
  const bucket = bucketName('upc-crc');
  const single = randomBytes(3 * MiB + 1234);
  const part1 = randomBytes(5 * MiB);
  const part2 = randomBytes(200_000);
  const multi = Buffer.concat([part1, part2]);
  const small = randomBytes(1000);

  before(async () => {
    ({ server, s3, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // The SDK sends a CRC32 of its own: the server still keeps CRC-64/NVME checkpoints of the blob.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'single', Body: single }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: small }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multi' }));
    const parts = [];
    for (const [i, body] of [part1, part2].entries()) {
      const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'multi', UploadId, PartNumber: i + 1, Body: body }));
      parts.push({ PartNumber: i + 1, ETag });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'multi', UploadId, MultipartUpload: { Parts: parts } }));
  });
  after(() => close());

  /** Copies [first, last] of `source` as part 1 of a CRC64NVME upload; returns what CopyPartResult says. */
  async function copyRange(source: string, first: number, last: number) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'dest', ChecksumAlgorithm: 'CRC64NVME' }));
    const r = await s3.send(new UploadPartCopyCommand({
      Bucket: bucket, Key: 'dest', UploadId, PartNumber: 1, CopySource: `${bucket}/${source}`, CopySourceRange: `bytes=${first}-${last}`,
    }));
    return { etag: r.CopyPartResult?.ETag, crc: r.CopyPartResult?.ChecksumCRC64NVME };
  }

  it('UploadPartCopy answers the CRC64NVME and MD5 of the copied bytes at every alignment of a single-blob source', async () => {
    const size = single.length;
    const ranges: Array<[number, number]> = [
      [0, size - 1], [0, MiB - 1], [MiB, 3 * MiB - 1], [1, 2 * MiB + 5], [MiB + 7, size - 1], [10, 20],
      [3 * MiB, size - 1], [MiB - 1, MiB], [2 * MiB - 3, 3 * MiB + 2], [0, 3 * MiB], [size - 1, size - 1],
    ];
    for (const [first, last] of ranges) {
      const bytes = single.subarray(first, last + 1);
      const got = await copyRange('single', first, last);
      assert.equal(got.crc, crc64nvme(bytes).toString('base64'), `CRC64NVME of bytes ${first}-${last}`);
      assert.equal(got.etag, `"${md5(bytes)}"`, `ETag of bytes ${first}-${last}`);
    }
  });

  it('UploadPartCopy combines the checksums of a range across the blobs of a multipart source', async () => {
    for (const [first, last] of [[5 * MiB - 10, 5 * MiB + 50], [MiB + 3, multi.length - 1], [0, multi.length - 1], [4 * MiB, 5 * MiB + 100_000]] as const) {
      const bytes = multi.subarray(first, last + 1);
      const got = await copyRange('multi', first, last);
      assert.equal(got.crc, crc64nvme(bytes).toString('base64'), `CRC64NVME of bytes ${first}-${last}`);
      assert.equal(got.etag, `"${md5(bytes)}"`, `ETag of bytes ${first}-${last}`);
    }
  });

  it('UploadPartCopy answers the CRC64NVME of a range of an inline source', async () => {
    const got = await copyRange('small', 5, 900);
    assert.equal(got.crc, crc64nvme(small.subarray(5, 901)).toString('base64'));
  });

  it('UploadPartCopy of exactly a whole blob reads nothing: it succeeds with the blob file gone', async () => {
    const v = await server.deps.meta.getVersion(bucket, 'multi');
    const second = v!.manifest[1];
    assert.equal(second.len, part2.length);
    // Remove the second part's file: only a copy that reads it could notice.
    rmSync(server.deps.blobs.filePath!(second.blob));
    const got = await copyRange('multi', part1.length, multi.length - 1);
    assert.equal(got.crc, crc64nvme(part2).toString('base64'));
    assert.equal(got.etag, `"${md5(part2)}"`);
  });
});
