import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  ListPartsCommand, PutBucketVersioningCommand, UploadPartCommand, type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';

/**
 * Parts uploaded in parallel and operations racing on one upload: every race
 * ends in one consistent outcome and leaves no blob behind. Blobs are counted
 * after a collector pass with no grace period; every body is a file blob
 * (inlineThreshold 0) so that each one is visible on disk.
 */
const MIN = 1024;

function md5(b: Buffer): Buffer {
  return createHash('md5').update(b).digest();
}

function etagOf(parts: Buffer[]): string {
  return `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-${parts.length}"`;
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed * 101) & 0xff;
  return b;
}

describe('Multipart concurrency', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('mpc');

  before(async () => {
    ({ s3, server, close } = await liveServer({ minPartSize: MIN, inlineThreshold: 0 }));
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => close());

  /** File blobs left on disk once the collector has run with no grace. */
  async function blobsOnDisk(): Promise<number> {
    await server.jobs.runNow({ graceMs: 0 });
    let n = 0;
    for await (const _ of server.deps.blobs.list()) n++;
    return n;
  }

  async function read(Key: string): Promise<Buffer> {
    const r = await s3.send(new GetObjectCommand({ Bucket, Key }));
    return Buffer.from(await r.Body!.transformToByteArray());
  }

  async function create(Key: string): Promise<string> {
    return (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }))).UploadId!;
  }

  it('UploadPart of 64 parts at once, then Complete: every byte in place', async () => {
    const Key = 'parallel';
    const UploadId = await create(Key);
    const parts = Array.from({ length: 64 }, (_, i) => bytes(MIN + i * 17, i));
    const done = await Promise.all(parts.map(async (Body, i) => {
      const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }));
      return { PartNumber: i + 1, ETag: r.ETag! };
    }));
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    assert.equal(listed.Parts!.length, 64);
    const r = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } }));
    assert.equal(r.ETag, etagOf(parts));
    assert.deepEqual(await read(Key), Buffer.concat(parts));
  });

  it('UploadPart of the same part number twice at once leaves exactly one of them', async () => {
    const Key = 'same-part';
    const before = await blobsOnDisk();
    const UploadId = await create(Key);
    const a = bytes(MIN * 3, 1);
    const b = bytes(MIN * 3, 2);
    const [ra, rb] = await Promise.all([a, b].map((Body) => s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body }))));
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    assert.equal(listed.Parts!.length, 1);
    const winner = listed.Parts![0].ETag === ra.ETag ? a : b;
    assert.ok([ra.ETag, rb.ETag].includes(listed.Parts![0].ETag));
    assert.equal(await blobsOnDisk(), before + 1);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: listed.Parts![0].ETag }] } }));
    assert.deepEqual(await read(Key), winner);
  });

  it('CompleteMultipartUpload racing AbortMultipartUpload: one wins, nothing is left behind', async () => {
    for (let round = 0; round < 6; round++) {
      const Key = `race-abort-${round}`;
      const before = await blobsOnDisk();
      const UploadId = await create(Key);
      const parts = [bytes(MIN, round), bytes(10, round + 1)];
      const done: CompletedPart[] = [];
      for (const [i, Body] of parts.entries()) done.push({ PartNumber: i + 1, ETag: (await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }))).ETag });
      const [complete, abort] = await Promise.allSettled([
        s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } })),
        s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })),
      ]);
      if (complete.status === 'fulfilled') {
        assert.equal(abort.status, 'rejected');
        assert.equal((abort as PromiseRejectedResult).reason.name, 'NoSuchUpload');
        assert.deepEqual(await read(Key), Buffer.concat(parts));
        assert.equal(await blobsOnDisk(), before + 2);
      } else {
        assert.equal(complete.reason.name, 'NoSuchUpload');
        assert.equal(abort.status, 'fulfilled');
        const e = await s3Error(() => s3.send(new GetObjectCommand({ Bucket, Key })));
        assert.equal(e.name, 'NoSuchKey');
        assert.equal(await blobsOnDisk(), before);
      }
    }
  });

  it('UploadPart racing CompleteMultipartUpload: the object has the listed parts and the late part is not kept', async () => {
    for (let round = 0; round < 4; round++) {
      const Key = `race-part-${round}`;
      const before = await blobsOnDisk();
      const UploadId = await create(Key);
      const first = bytes(50, round);
      const r1 = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: first }));
      const [complete, late] = await Promise.allSettled([
        s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r1.ETag }] } })),
        s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: bytes(MIN * 4, 9) })),
      ]);
      assert.equal(complete.status, 'fulfilled');
      if (late.status === 'rejected') assert.equal(late.reason.name, 'NoSuchUpload');
      assert.deepEqual(await read(Key), first);
      assert.equal(await blobsOnDisk(), before + 1);
    }
  });

  it('CompleteMultipartUpload twice at once: one object version, the same answer to both', async () => {
    const vBucket = bucketName('mpcv');
    await s3.send(new CreateBucketCommand({ Bucket: vBucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vBucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const Key = 'twice';
    const UploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: vBucket, Key }))).UploadId!;
    const parts = [bytes(MIN, 3), bytes(5, 4)];
    const done: CompletedPart[] = [];
    for (const [i, Body] of parts.entries()) done.push({ PartNumber: i + 1, ETag: (await s3.send(new UploadPartCommand({ Bucket: vBucket, Key, UploadId, PartNumber: i + 1, Body }))).ETag });
    const results = await Promise.all([1, 2, 3].map(() => s3.send(new CompleteMultipartUploadCommand({ Bucket: vBucket, Key, UploadId, MultipartUpload: { Parts: done } }))));
    for (const r of results) {
      assert.equal(r.ETag, etagOf(parts));
      assert.equal(r.VersionId, results[0].VersionId);
    }
    const versions = await server.deps.meta.listVersions(vBucket, { latestOnly: false, limit: 10 });
    assert.equal(versions.length, 1);
    assert.equal(versions[0].versionId, results[0].VersionId);
  });
  it('UploadPart racing AbortMultipartUpload leaves nothing behind', async () => {
    for (let round = 0; round < 4; round++) {
      const Key = `race-abort-part-${round}`;
      const before = await blobsOnDisk();
      const UploadId = await create(Key);
      await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: bytes(MIN, round) }));
      const [abort, late] = await Promise.allSettled([
        s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })),
        s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: bytes(MIN * 4, round) })),
      ]);
      assert.equal(abort.status, 'fulfilled');
      if (late.status === 'rejected') assert.equal(late.reason.name, 'NoSuchUpload');
      const e = await s3Error(() => s3.send(new ListPartsCommand({ Bucket, Key, UploadId })));
      assert.equal(e.name, 'NoSuchUpload');
      assert.equal(await blobsOnDisk(), before);
    }
  });
});
