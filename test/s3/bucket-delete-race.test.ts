/**
 * A write commits only into the bucket it was authorized for. A PUT that is
 * still streaming when its bucket is deleted (and perhaps created again, by
 * another account) fails with NoSuchBucket and leaves nothing behind: the
 * new bucket is a new, empty bucket that its owner can delete. The same
 * holds across two gateways, whose bucket caches may be up to 1 s old.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  CreateBucketCommand, DeleteBucketCommand, GetObjectCommand, HeadBucketCommand,
  ListObjectVersionsCommand, ListObjectsV2Command, PutBucketVersioningCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, client, liveServer, s3Error, TEST_META } from '../helpers.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';

const OTHER = { accountId: '444444444444', canonicalId: 'e'.repeat(64), key: 'AKIDOTHERACCOUNT01', secret: 'secret-of-the-other-account' };

function accountsFile(dir: string): string {
  const file = join(dir, 'accounts.json');
  writeFileSync(file, JSON.stringify([{
    accountId: OTHER.accountId, canonicalId: OTHER.canonicalId, displayName: 'other', keys: [{ accessKeyId: OTHER.key, secretAccessKey: OTHER.secret }],
  }]));
  return file;
}

/** A PUT whose body stops half way until `finish()`; `started` resolves once the server has the first half. */
function slowPut(s3: S3Client, Bucket: string, Key: string, size: number) {
  const data = Buffer.alloc(size, 7);
  const body = new PassThrough();
  body.write(data.subarray(0, size / 2));
  const answer = s3.send(new PutObjectCommand({ Bucket, Key, Body: body, ContentLength: size }));
  answer.catch(() => undefined);
  return { answer, finish: () => body.end(data.subarray(size / 2)) };
}

/** Lets a request's first bytes reach the server's handler. */
const settle = () => new Promise((ok) => setTimeout(ok, 300));

/** The other account sees the re-created bucket empty, and can delete it. */
async function assertEmptyAndDeletable(s3: S3Client, Bucket: string): Promise<void> {
  assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents ?? [], []);
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  assert.deepEqual([...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])], []);
  assert.equal((await s3.send(new DeleteBucketCommand({ Bucket }))).$metadata.httpStatusCode, 204);
}

describe('DeleteBucket racing a write', () => {
  let dir: string;
  let live: Awaited<ReturnType<typeof liveServer>>;
  let other: S3Client;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-race-'));
    live = await liveServer({ accountsFile: accountsFile(dir) });
    other = client(live.server, { credentials: { accessKeyId: OTHER.key, secretAccessKey: OTHER.secret } });
  });
  after(async () => {
    other?.destroy();
    await live?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [what, size] of [['a blob file', 200_000], ['an inline body', 20_000]] as const) {
    it(`a PUT (${what}) that finishes after its bucket was deleted and re-created by another account: NoSuchBucket, and nothing of it survives`, async () => {
      const Bucket = bucketName('race');
      await live.s3.send(new CreateBucketCommand({ Bucket }));
      const put = slowPut(live.s3, Bucket, 'secret', size);
      await settle();
      assert.equal((await live.s3.send(new DeleteBucketCommand({ Bucket }))).$metadata.httpStatusCode, 204);
      await other.send(new CreateBucketCommand({ Bucket }));
      put.finish();
      const err = await s3Error(() => put.answer);
      assert.equal(err.status, 404);
      assert.equal(err.name, 'NoSuchBucket');
      assert.equal((await s3Error(() => other.send(new GetObjectCommand({ Bucket, Key: 'secret' })))).name, 'NoSuchKey');
      await assertEmptyAndDeletable(other, Bucket);
    });
  }

  it('a PUT into a versioned bucket deleted meanwhile: NoSuchBucket; a bucket of that name created later is empty', async () => {
    const Bucket = bucketName('race-v');
    await live.s3.send(new CreateBucketCommand({ Bucket }));
    await live.s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const put = slowPut(live.s3, Bucket, 'k', 200_000);
    await settle();
    await live.s3.send(new DeleteBucketCommand({ Bucket }));
    put.finish();
    assert.equal((await s3Error(() => put.answer)).name, 'NoSuchBucket');
    await live.s3.send(new CreateBucketCommand({ Bucket }));
    await assertEmptyAndDeletable(live.s3, Bucket);
  });
});

describe('DeleteBucket racing a write across two gateways', { skip: TEST_META !== 'postgres' && 'PostgreSQL mode only (gateways share a database)' }, () => {
  let db: ScratchDatabase;
  let dir: string;
  let a: Awaited<ReturnType<typeof liveServer>>;
  let b: Awaited<ReturnType<typeof liveServer>>;
  let otherOnB: S3Client;
  before(async () => {
    db = await createScratchDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tessera-race-gw-'));
    const opts = { meta: 'postgres' as const, postgresUrl: db.url, dataDir: join(dir, 'data'), accountsFile: accountsFile(dir) };
    a = await liveServer(opts);
    b = await liveServer(opts);
    otherOnB = client(b.server, { credentials: { accessKeyId: OTHER.key, secretAccessKey: OTHER.secret } });
  });
  after(async () => {
    otherOnB?.destroy();
    await a?.close();
    await b?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a PUT streaming through A while B deletes the bucket and another account re-creates it through B: NoSuchBucket', async () => {
    const Bucket = bucketName('race-gw');
    await a.s3.send(new CreateBucketCommand({ Bucket }));
    const put = slowPut(a.s3, Bucket, 'secret', 200_000);
    await settle();
    await b.s3.send(new DeleteBucketCommand({ Bucket }));
    await otherOnB.send(new CreateBucketCommand({ Bucket }));
    put.finish();
    assert.equal((await s3Error(() => put.answer)).name, 'NoSuchBucket');
    await assertEmptyAndDeletable(otherOnB, Bucket);
  });

  it('a PUT through A right after B deleted the bucket (A\'s cached row still names it): NoSuchBucket, nothing kept', async () => {
    const Bucket = bucketName('race-cache');
    await a.s3.send(new CreateBucketCommand({ Bucket }));
    await a.s3.send(new HeadBucketCommand({ Bucket })); // A caches the row
    await b.s3.send(new DeleteBucketCommand({ Bucket }));
    const err = await s3Error(() => a.s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'late' })));
    assert.equal(err.name, 'NoSuchBucket');
    await otherOnB.send(new CreateBucketCommand({ Bucket }));
    await assertEmptyAndDeletable(otherOnB, Bucket);
  });
});
