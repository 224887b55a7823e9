/**
 * A write in progress keeps its blob, however slowly its bytes arrive, and a
 * write whose blob is lost anyway fails instead of answering 200.
 *
 * Blob files are created when a body starts and filled as it arrives; the
 * reaper removes unreferenced files older than `blobGraceMs`. These tests
 * run the reaper every 100 ms with a grace of 1 s while bodies pause for
 * three times that: a slow phone or a throttled backup client, compressed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand,
  PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error, TEST_META } from '../helpers.js';
import type { BlobStore } from '../../src/blob/types.js';
import { reapOrphans } from '../../src/jobs/collector.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/postgres-scratch.js';

const GRACE = 1000;
const PAUSE = 3 * GRACE;
const MIN = 1024;

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed * 13) & 0xff;
  return b;
}

/**
 * A body that sends its first `head` bytes, then waits for `gate` before the
 * rest: the SDK streams it with a declared ContentLength, as a slow client.
 */
function slowBody(data: Buffer, head: number, gate: Promise<unknown>): PassThrough {
  const body = new PassThrough();
  body.write(data.subarray(0, head));
  void gate.then(() => body.end(data.subarray(head)));
  return body;
}

/** Blob files in a data directory right now. */
function blobFiles(dataDir: string): Set<string> {
  const out = new Set<string>();
  const root = join(dataDir, 'blobs');
  for (const sub of readdirSync(root)) for (const f of readdirSync(join(root, sub))) out.add(join(root, sub, f));
  return out;
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await sleep(25);
  assert.ok(cond(), what);
}

async function getBytes(s3: S3Client, Bucket: string, Key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

describe('A slow write keeps its blob while the reaper runs', () => {
  let live: Awaited<ReturnType<typeof liveServer>>;
  const Bucket = bucketName('slow');
  before(async () => {
    live = await liveServer({ blobGraceMs: GRACE, jobIntervalMs: 100, minPartSize: MIN });
    await live.s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => live?.close());

  it('PutObject: 100 KB, a pause of three grace periods, 100 KB more: 200, and the object reads back whole', async () => {
    const data = bytes(200_000, 1);
    const put = await live.s3.send(new PutObjectCommand({ Bucket, Key: 'slow', Body: slowBody(data, 100_000, sleep(PAUSE)), ContentLength: data.length }));
    assert.equal(put.$metadata.httpStatusCode, 200);
    assert.equal((await live.s3.send(new HeadObjectCommand({ Bucket, Key: 'slow' }))).ContentLength, data.length);
    assert.ok((await getBytes(live.s3, Bucket, 'slow')).equals(data));
  });

  it('UploadPart: a part that pauses past the grace period is kept, and the completed object reads back whole', async () => {
    const { UploadId } = await live.s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'slow-mp' }));
    const p1 = bytes(150_000, 2);
    const p2 = bytes(90_000, 3);
    const [e1, e2] = await Promise.all([
      live.s3.send(new UploadPartCommand({ Bucket, Key: 'slow-mp', UploadId, PartNumber: 1, Body: slowBody(p1, 80_000, sleep(PAUSE)), ContentLength: p1.length })),
      live.s3.send(new UploadPartCommand({ Bucket, Key: 'slow-mp', UploadId, PartNumber: 2, Body: p2 })),
    ]);
    await live.s3.send(new CompleteMultipartUploadCommand({
      Bucket, Key: 'slow-mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] },
    }));
    assert.ok((await getBytes(live.s3, Bucket, 'slow-mp')).equals(Buffer.concat([p1, p2])));
  });

  it('a blob file removed while its body is still arriving fails the PUT (500 InternalError) and stores nothing', async () => {
    const data = bytes(200_000, 4);
    const before = blobFiles(live.server.dataDir);
    let release!: () => void;
    const gate = new Promise<void>((ok) => (release = ok));
    const put = live.s3.send(new PutObjectCommand({ Bucket, Key: 'vanished', Body: slowBody(data, 100_000, gate), ContentLength: data.length }));
    const fresh = () => [...blobFiles(live.server.dataDir)].filter((f) => !before.has(f));
    await waitFor(() => fresh().length === 1, 'the PUT has created its blob file');
    unlinkSync(fresh()[0]);
    release();
    const err = await s3Error(() => put);
    assert.equal(err.status, 500);
    assert.equal(err.name, 'InternalError');
    assert.equal((await s3Error(() => live.s3.send(new HeadObjectCommand({ Bucket, Key: 'vanished' })))).status, 404);
  });

  it('a reaper that misses the write (a gateway stalled past the grace period) claims the blob first: the PUT fails and stores nothing', async () => {
    const data = bytes(200_000, 5);
    let release!: () => void;
    const gate = new Promise<void>((ok) => (release = ok));
    const before = blobFiles(live.server.dataDir);
    const put = live.s3.send(new PutObjectCommand({ Bucket, Key: 'claimed', Body: slowBody(data, 100_000, gate), ContentLength: data.length }));
    await waitFor(() => [...blobFiles(live.server.dataDir)].some((f) => !before.has(f)), 'the PUT has created its blob file');
    // The reaper of a process that does not know this write and sees a file older than its grace (0).
    const blobs = live.server.deps.blobs;
    const stranger: BlobStore = {
      create: () => blobs.create(), read: (id, s, e) => blobs.read(id, s, e), remove: (id) => blobs.remove(id), list: () => blobs.list(),
      close: async () => {}, writing: () => false,
    };
    assert.ok((await reapOrphans(live.server.deps.meta, stranger, 0, Date.now() + 1000)) >= 1);
    release();
    const err = await s3Error(() => put);
    assert.equal(err.status, 500);
    assert.equal((await s3Error(() => live.s3.send(new HeadObjectCommand({ Bucket, Key: 'claimed' })))).status, 404);
  });
});

describe('A slow write through one gateway keeps its blob while another gateway reaps the shared store', { skip: TEST_META !== 'postgres' && 'PostgreSQL mode only (gateways share a database)' }, () => {
  let db: ScratchDatabase;
  let dataDir: string;
  let a: Awaited<ReturnType<typeof liveServer>>;
  let b: Awaited<ReturnType<typeof liveServer>>;
  const Bucket = bucketName('slow-gw');
  before(async () => {
    db = await createScratchDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-slow-gw-'));
    const opts = { meta: 'postgres' as const, postgresUrl: db.url, dataDir, blobGraceMs: GRACE };
    a = await liveServer({ ...opts, jobIntervalMs: 0 });
    b = await liveServer({ ...opts, jobIntervalMs: 100 });
    await a.s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('PutObject through A pauses three grace periods while B reaps every 100 ms: 200, and B reads it back whole', async () => {
    const data = bytes(300_000, 6);
    await a.s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: slowBody(data, 120_000, sleep(PAUSE)), ContentLength: data.length }));
    assert.ok((await getBytes(b.s3, Bucket, 'k')).equals(data));
    const swept = await b.server.jobs.runNow();
    assert.equal(swept.reaped, 0);
    assert.ok((await getBytes(a.s3, Bucket, 'k')).equals(data));
  });
});
