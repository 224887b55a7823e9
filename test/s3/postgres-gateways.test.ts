import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  HeadObjectCommand, ListBucketsCommand, ListObjectVersionsCommand, ListObjectsV2Command, PutBucketVersioningCommand,
  PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { createScratchDatabase, postgresUnavailable, type ScratchDatabase } from '../support/postgres-scratch.js';

/**
 * Two gateways, as a platform team runs them: two Tessera servers sharing one
 * PostgreSQL database and one data directory (blobs, keys). Whatever one
 * writes the other serves, and races between them resolve in the database:
 * concurrent Completes of one upload make one object, a Complete racing an
 * Abort has one winner, concurrent writers of a key each get a version.
 */
const unavailable = await postgresUnavailable();
const MIN = 1024;

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 11 + seed * 17) & 0xff;
  return b;
}

describe('Two gateways over one PostgreSQL database', { skip: unavailable }, () => {
  let db: ScratchDatabase;
  let dataDir: string;
  let a: { server: RunningServer; s3: S3Client; close: () => Promise<void> };
  let b: { server: RunningServer; s3: S3Client; close: () => Promise<void> };
  const Bucket = bucketName('gw');

  const body = async (s3: S3Client, Key: string, VersionId?: string) => {
    const r = await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }));
    return Buffer.from(await r.Body!.transformToByteArray());
  };

  /** An upload with part 1 sent through gateway A and part 2 through gateway B. */
  const upload = async (Key: string, seed: number) => {
    const { UploadId } = await a.s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const p1 = bytes(MIN, seed);
    const p2 = bytes(100, seed + 1);
    const e1 = await a.s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: p1 }));
    const e2 = await b.s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: p2 }));
    const complete = (s3: S3Client) => s3.send(new CompleteMultipartUploadCommand({
      Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] },
    }));
    return { UploadId: UploadId!, data: Buffer.concat([p1, p2]), complete };
  };

  before(async () => {
    db = await createScratchDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-gateways-'));
    const opts = { meta: 'postgres' as const, postgresUrl: db.url, dataDir, minPartSize: MIN, inlineThreshold: 0 };
    [a, b] = await Promise.all([liveServer(opts), liveServer(opts)]);
    await a.s3.send(new CreateBucketCommand({ Bucket }));
    await b.s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('PutObject through one gateway, GetObject, HeadObject and ListObjectsV2 through the other', async () => {
    const listed = await b.s3.send(new ListBucketsCommand({}));
    assert.ok(listed.Buckets?.some((x) => x.Name === Bucket));
    const data = bytes(5000, 1);
    const put = await a.s3.send(new PutObjectCommand({ Bucket, Key: 'shared', Body: data }));
    assert.deepEqual(await body(b.s3, 'shared'), data);
    const head = await b.s3.send(new HeadObjectCommand({ Bucket, Key: 'shared' }));
    assert.equal(head.ETag, put.ETag);
    assert.equal(head.VersionId, put.VersionId);
    const list = await b.s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'shared' }));
    assert.deepEqual(list.Contents?.map((o) => o.Key), ['shared']);
  });

  it('CompleteMultipartUpload through both gateways at once produces one object', async () => {
    for (let round = 0; round < 4; round++) {
      const Key = `double-${round}`;
      const u = await upload(Key, round * 3);
      const results = await Promise.allSettled([u.complete(a.s3), u.complete(b.s3)]);
      const versions = await a.s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: Key }));
      assert.equal(versions.Versions?.length, 1, `round ${round}: one version`);
      const only = versions.Versions![0];
      for (const r of results) {
        // The loser either answers as the winner did (a retried Complete) or finds the upload gone.
        if (r.status === 'fulfilled') assert.equal(r.value.VersionId, only.VersionId);
        else assert.equal((r.reason as Error).name, 'NoSuchUpload');
      }
      assert.ok(results.some((r) => r.status === 'fulfilled'));
      assert.deepEqual(await body(b.s3, Key), u.data);
    }
  });

  it('CompleteMultipartUpload racing AbortMultipartUpload on the other gateway: one wins', async () => {
    for (let round = 0; round < 4; round++) {
      const Key = `race-abort-${round}`;
      const u = await upload(Key, 40 + round);
      const [completed, aborted] = await Promise.allSettled([
        u.complete(a.s3), b.s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: u.UploadId })),
      ]);
      assert.notEqual(completed.status, aborted.status, `round ${round}: exactly one succeeds`);
      const loser = completed.status === 'rejected' ? completed : aborted;
      assert.equal(((loser as PromiseRejectedResult).reason as Error).name, 'NoSuchUpload');
      if (completed.status === 'fulfilled') assert.deepEqual(await body(b.s3, Key), u.data);
      else assert.equal((await s3Error(() => b.s3.send(new HeadObjectCommand({ Bucket, Key })))).status, 404);
    }
  });

  it('PutObject of one key from both gateways at once: every write is a version, one is latest', async () => {
    const n = 16;
    const puts = await Promise.all(Array.from({ length: n }, (_, i) =>
      (i % 2 ? b : a).s3.send(new PutObjectCommand({ Bucket, Key: 'contended', Body: `write ${i}` }))));
    const versions = (await a.s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'contended' }))).Versions!;
    assert.equal(versions.length, n);
    assert.deepEqual(new Set(versions.map((v) => v.VersionId)), new Set(puts.map((p) => p.VersionId)));
    assert.equal(versions.filter((v) => v.IsLatest).length, 1);
    assert.equal(versions[0].IsLatest, true, 'the latest version is listed first');
    const latest = await b.s3.send(new GetObjectCommand({ Bucket, Key: 'contended' }));
    assert.equal(latest.VersionId, versions[0].VersionId);
  });

  it('a collector pass on either gateway keeps every blob the other still references', async () => {
    await a.server.jobs.runNow({ graceMs: 0, now: Date.now() + 1 });
    await b.server.jobs.runNow({ graceMs: 0, now: Date.now() + 1 });
    assert.deepEqual(await body(a.s3, 'shared'), bytes(5000, 1));
    const u = await upload('after-gc', 90);
    await u.complete(b.s3);
    await a.server.jobs.runNow({ graceMs: 0, now: Date.now() + 1 });
    assert.deepEqual(await body(a.s3, 'after-gc'), u.data);
  });
});
