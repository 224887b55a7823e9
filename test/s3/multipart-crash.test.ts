import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, ListMultipartUploadsCommand,
  ListPartsCommand, UploadPartCommand, type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';
import { client, s3Error, testMeta, type TestMeta } from '../helpers.js';
import { startServer, type RunningServer } from '../../src/index.js';
import { DEFAULTS } from '../../src/config.js';
import { kill9, spawnServer } from '../child-server.js';

/**
 * A server killed with SIGKILL during UploadPart or CompleteMultipartUpload
 * restarts on the same data directory with either the whole object or the
 * upload still listable, never a torn object; a part cut off mid-body leaves
 * only an unreferenced blob file, which the reaper removes.
 */
const MIN = 1024;
const dirs: string[] = [];
const metas: TestMeta[] = [];

after(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const m of metas) await m.drop();
});

/** A new data directory and, in PostgreSQL mode, its database. */
async function newData(): Promise<{ dataDir: string; meta: TestMeta }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-crash-'));
  dirs.push(dataDir);
  const meta = await testMeta();
  metas.push(meta);
  return { dataDir, meta };
}

/** `tessera serve` in a child process with a small minimum part size. */
const serve = (dataDir: string, meta: TestMeta) => spawnServer(dataDir, meta, { args: ['--min-part-size', String(MIN), '--log-level', 'error'] });

/** A client of the child server, which runs with the default root credentials. */
function clientFor(url: string): S3Client {
  return client({ url, accessKeyId: DEFAULTS.rootAccessKey, secretAccessKey: DEFAULTS.rootSecretKey } as RunningServer, { maxAttempts: 1 });
}

/** The same data directory, restarted in this process so the test can run the collector. */
async function restart(dataDir: string, meta: TestMeta): Promise<{ server: RunningServer; s3: S3Client }> {
  const server = await startServer({ dataDir, port: 0, jobIntervalMs: 0, minPartSize: MIN, ...meta.options });
  return { server, s3: client(server) };
}

/** Waits until the server has started writing a blob file (the streaming part). */
async function untilBlobFile(dataDir: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    for (const sub of readdirSync(join(dataDir, 'blobs'))) if (readdirSync(join(dataDir, 'blobs', sub)).length) return;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error('the server never started a blob file');
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed * 31) & 0xff;
  return b;
}

describe('Multipart crash safety', () => {
  it('UploadPart cut off by SIGKILL: the upload and its acknowledged parts survive, the partial blob is reaped', async () => {
    const { dataDir, meta } = await newData();
    const { child, url } = await serve(dataDir, meta);
    const s3 = clientFor(url);
    const Bucket = 'crash-part';
    const Key = 'k';
    let UploadId: string;
    const first = bytes(4 * MIN, 1);
    let firstEtag: string;
    try {
      await s3.send(new CreateBucketCommand({ Bucket }));
      UploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }))).UploadId!;
      firstEtag = (await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: first }))).ETag!;
      // Part 2 sends 1 MiB of a declared 8 MiB, then stalls until the server is killed.
      let sent = false;
      const body = new Readable({
        read() {
          if (!sent) {
            sent = true;
            this.push(Buffer.alloc(1 << 20, 7));
          }
        },
      });
      const pending = s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: body, ContentLength: 8 << 20 })).catch((e) => e);
      await untilBlobFile(dataDir);
      await kill9(child);
      assert.ok((await pending) instanceof Error);
    } finally {
      await kill9(child);
      s3.destroy();
    }
    const { server, s3: again } = await restart(dataDir, meta);
    try {
      const uploads = await again.send(new ListMultipartUploadsCommand({ Bucket }));
      assert.deepEqual(uploads.Uploads!.map((u) => u.UploadId), [UploadId]);
      const parts = await again.send(new ListPartsCommand({ Bucket, Key, UploadId }));
      assert.deepEqual(parts.Parts!.map((p) => [p.PartNumber, p.ETag, p.Size]), [[1, firstEtag, first.length]]);
      const swept = await server.jobs.runNow({ graceMs: 0 });
      assert.equal(swept.reaped, 1);
      await again.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: firstEtag }] } }));
      const got = await again.send(new GetObjectCommand({ Bucket, Key }));
      assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), first);
      let files = 0;
      for await (const _ of server.deps.blobs.list()) files++;
      assert.equal(files, 0); // part 1 is small enough to live inline in metadata
    } finally {
      again.destroy();
      await server.close();
    }
  });

  it('CompleteMultipartUpload cut off by SIGKILL: the whole object or the upload, never a torn object', async () => {
    // The kill lands at a different moment of the Complete in each round.
    for (const delayMs of [5, 20, 40, 70, 120, 250]) {
      const { dataDir, meta } = await newData();
      const { child, url } = await serve(dataDir, meta);
      const s3 = clientFor(url);
      const Bucket = 'crash-complete';
      const Key = 'obj';
      const parts = Array.from({ length: 40 }, (_, i) => bytes(MIN + i, i));
      const done: CompletedPart[] = [];
      let UploadId: string;
      try {
        await s3.send(new CreateBucketCommand({ Bucket }));
        UploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }))).UploadId!;
        for (let i = 0; i < parts.length; i += 10) {
          const batch = await Promise.all(parts.slice(i, i + 10).map(async (Body, j) => {
            const PartNumber = i + j + 1;
            return { PartNumber, ETag: (await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body }))).ETag };
          }));
          done.push(...batch);
        }
        const pending = s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } })).catch((e) => e);
        await new Promise((ok) => setTimeout(ok, delayMs));
        await kill9(child);
        await pending;
      } finally {
        await kill9(child);
        s3.destroy();
      }
      const { server, s3: again } = await restart(dataDir, meta);
      try {
        const uploads = await again.send(new ListMultipartUploadsCommand({ Bucket }));
        const listed = (uploads.Uploads ?? []).map((u) => u.UploadId);
        const whole = Buffer.concat(parts);
        const etag = `"${createHash('md5').update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))).digest('hex')}-${parts.length}"`;
        if (listed.length === 0) {
          const got = await again.send(new GetObjectCommand({ Bucket, Key }));
          assert.equal(got.ETag, etag);
          assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), whole, `torn object after a kill at ${delayMs} ms`);
        } else {
          assert.deepEqual(listed, [UploadId]);
          const e = await s3Error(() => again.send(new GetObjectCommand({ Bucket, Key })));
          assert.equal(e.name, 'NoSuchKey');
          const ps = await again.send(new ListPartsCommand({ Bucket, Key, UploadId }));
          assert.equal(ps.Parts!.length, parts.length);
          const r = await again.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } }));
          assert.equal(r.ETag, etag);
        }
      } finally {
        again.destroy();
        await server.close();
      }
    }
  });
});
