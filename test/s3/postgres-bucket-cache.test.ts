import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, ListObjectVersionsCommand,
  PutBucketVersioningCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { BUCKET_CACHE_MS } from '../../src/meta/bucket-cache.js';
import { createScratchDatabase, postgresUnavailable, type ScratchDatabase } from '../support/postgres-scratch.js';

/**
 * Each gateway keeps the bucket rows it read (meta/bucket-cache.ts): a
 * change through a gateway is seen by that gateway's next request, and by
 * the other gateway once BUCKET_CACHE_MS has passed. Timers never fire
 * early, so waiting a little longer than that bound cannot be flaky.
 */
const unavailable = await postgresUnavailable();
const PAST_THE_BOUND = BUCKET_CACHE_MS + 200;

describe('Bucket settings across two gateways', { skip: unavailable }, () => {
  let db: ScratchDatabase;
  let dataDir: string;
  let a: { server: RunningServer; s3: S3Client; close: () => Promise<void> };
  let b: { server: RunningServer; s3: S3Client; close: () => Promise<void> };

  before(async () => {
    db = await createScratchDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-bucket-cache-'));
    const opts = { meta: 'postgres' as const, postgresUrl: db.url, dataDir };
    [a, b] = await Promise.all([liveServer(opts), liveServer(opts)]);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('DeleteBucket through one gateway: that gateway answers NoSuchBucket at once, the other within the bound', async () => {
    const Bucket = bucketName('cache');
    await a.s3.send(new CreateBucketCommand({ Bucket }));
    await a.s3.send(new HeadBucketCommand({ Bucket }));
    await b.s3.send(new HeadBucketCommand({ Bucket }));
    await b.s3.send(new DeleteBucketCommand({ Bucket }));
    const here = await s3Error(() => b.s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' })));
    assert.equal(here.name, 'NoSuchBucket');
    await sleep(PAST_THE_BOUND);
    const there = await s3Error(() => a.s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' })));
    assert.equal(there.name, 'NoSuchBucket');
  });

  it('PutBucketVersioning through one gateway: writes through the other keep every version once the bound has passed', async () => {
    const Bucket = bucketName('cache');
    await a.s3.send(new CreateBucketCommand({ Bucket }));
    await a.s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'unversioned' }));
    await b.s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const first = await b.s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'one' }));
    assert.ok(first.VersionId && first.VersionId !== 'null', 'the gateway that enabled versioning writes a version at once');
    await sleep(PAST_THE_BOUND);
    const second = await a.s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'two' }));
    assert.ok(second.VersionId && second.VersionId !== 'null');
    const versions = (await a.s3.send(new ListObjectVersionsCommand({ Bucket }))).Versions!;
    assert.deepEqual(versions.map((v) => v.VersionId), [second.VersionId, first.VersionId, 'null']);
    const got = await a.s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: first.VersionId }));
    assert.equal(await got.Body!.transformToString(), 'one');
    for (const v of versions) await a.s3.send(new DeleteObjectCommand({ Bucket, Key: 'k', VersionId: v.VersionId }));
  });
});
