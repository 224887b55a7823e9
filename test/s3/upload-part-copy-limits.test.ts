import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCopyCommand, type S3Client,
} from '@aws-sdk/client-s3';
import type { RunningServer } from '../../src/index.js';
import { bucketName, liveServer, s3Error } from '../helpers.js';

const GiB = 1024 ** 3;

/**
 * Size limits of copies: a copied part is at most 5 GiB (EntityTooLarge, the
 * UploadPart limit), and CopyObject takes sources up to 5 GiB (beyond:
 * InvalidRequest, use multipart copy). The 6 GiB source is a version whose
 * manifest names a blob of that size that was never written: the limits are
 * checked before any byte is read.
 */
describe('UploadPartCopy and CopyObject size limits', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('upcl');
  let UploadId: string;

  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket }));
    const blob = 'f' + 'e'.repeat(30);
    await server.deps.meta.putVersion({
      bucket: Bucket, key: 'huge', versionId: 'null', mode: 'replace-null', newBlobs: [{ id: blob, size: 6 * GiB }],
      version: { deleteMarker: false, size: 6 * GiB, etag: '0123456789abcdef0123456789abcdef', lastModified: Date.now(), manifest: [{ blob, off: 0, len: 6 * GiB }], meta: {} },
    });
    UploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'dst' }))).UploadId!;
  });
  after(() => close());

  const part = (CopySourceRange?: string) =>
    s3.send(new UploadPartCopyCommand({ Bucket, Key: 'dst', UploadId, PartNumber: 1, CopySource: `${Bucket}/huge`, CopySourceRange }));

  it('UploadPartCopy of more than 5 GiB, whole or as a range -> 400 EntityTooLarge', async () => {
    for (const [range, size] of [[undefined, 6 * GiB], [`bytes=0-${5 * GiB}`, 5 * GiB + 1], [`bytes=${GiB - 1}-${6 * GiB - 1}`, 5 * GiB + 1]] as const) {
      const e = await s3Error(() => part(range));
      assert.equal(e.status, 400);
      assert.equal(e.name, 'EntityTooLarge');
      assert.equal(e.message, 'Your proposed upload exceeds the maximum allowed size');
      assert.equal(Number(e.raw.ProposedSize), size);
      assert.equal(Number(e.raw.MaxSizeAllowed), 5 * GiB);
    }
  });

  it('CopyObject of a source over 5 GiB -> 400 InvalidRequest naming the limit', async () => {
    const e = await s3Error(() => s3.send(new CopyObjectCommand({ Bucket, Key: 'huge-copy', CopySource: `${Bucket}/huge` })));
    assert.equal(e.status, 400);
    assert.equal(e.name, 'InvalidRequest');
    assert.equal(e.message, 'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120');
  });

  it('UploadPartCopy of an empty source: whole, an empty part with the empty MD5; any range -> InvalidRequest', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'empty', Body: '' }));
    const r = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'dst', UploadId, PartNumber: 2, CopySource: `${Bucket}/empty` }));
    assert.equal(r.CopyPartResult!.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
    const e = await s3Error(() => s3.send(new UploadPartCopyCommand({ Bucket, Key: 'dst', UploadId, PartNumber: 2, CopySource: `${Bucket}/empty`, CopySourceRange: 'bytes=0-0' })));
    assert.equal(e.name, 'InvalidRequest');
  });
});
