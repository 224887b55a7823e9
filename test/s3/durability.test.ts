import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startServer, type RunningServer } from '../../src/index.js';
import { client, liveServer, s3Error, testMeta, type TestMeta } from '../helpers.js';
import { rawSocket, signRequest } from './raw-signed.js';
import { kill9, spawnServer as spawnChild } from '../child-server.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

function blobFiles(dataDir: string): string[] {
  const dir = join(dataDir, 'blobs');
  return readdirSync(dir).flatMap((sub) => readdirSync(join(dir, sub)));
}

/** The child servers here log warnings only and run no background jobs (tests run the collector themselves). */
const spawnServer = (dataDir: string, meta: TestMeta) =>
  spawnChild(dataDir, meta, { args: ['--log-level', 'warn'], env: { TESSERA_JOB_INTERVAL_MS: '0' } });

function sdk(url: string): S3Client {
  return new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'tessera-root', secretAccessKey: 'tessera-root-secret-key' } });
}

async function getBytes(s3: S3Client, Bucket: string, Key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

describe('durability: SIGKILL during writes', () => {
  const dirs: string[] = [];
  const metas: TestMeta[] = [];
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) await kill9(c);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    for (const m of metas) await m.drop();
  });
  /** A new data directory and, in PostgreSQL mode, its database. */
  async function newData(): Promise<{ dataDir: string; meta: TestMeta }> {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-kill-'));
    dirs.push(dataDir);
    const meta = await testMeta();
    metas.push(meta);
    return { dataDir, meta };
  }

  it('PutObject killed mid-body: after restart the old object is intact, and the collector reaps the torn blob', async () => {
    const { dataDir, meta } = await newData();
    const first = await spawnServer(dataDir, meta);
    children.push(first.child);
    let s3 = sdk(first.url);
    const old = Buffer.alloc(300_000, 'o');
    await s3.send(new CreateBucketCommand({ Bucket: 'dur' }));
    await s3.send(new PutObjectCommand({ Bucket: 'dur', Key: 'obj', Body: old }));
    s3.destroy();

    // Start an overwrite with a big body, send half of it, then kill the server.
    const fake = { url: first.url, accessKeyId: 'tessera-root', secretAccessKey: 'tessera-root-secret-key' } as RunningServer;
    const signed = await signRequest(fake, { method: 'PUT', path: '/dur/obj', payloadHash: 'UNSIGNED-PAYLOAD', headers: { 'content-length': String(2_000_000) } });
    const { socket } = await rawSocket(fake, `PUT ${signed.path} HTTP/1.1\r\n${Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
    socket.write(Buffer.alloc(1_000_000, 'n'));
    await new Promise((ok) => setTimeout(ok, 300));
    await kill9(first.child);
    socket.destroy();

    const second = await spawnServer(dataDir, meta);
    children.push(second.child);
    s3 = sdk(second.url);
    assert.equal(md5(await getBytes(s3, 'dur', 'obj')), md5(old));
    s3.destroy();
    await kill9(second.child);

    // The collector (in-process on the same data) removes every blob file no manifest references.
    const server = await startServer({ dataDir, port: 0, jobIntervalMs: 0, ...meta.options });
    try {
      await server.jobs.runNow({ graceMs: 0 });
      assert.equal(blobFiles(dataDir).length, 1, 'only the old object\'s blob is left');
      const c = client(server);
      assert.equal(md5(await getBytes(c, 'dur', 'obj')), md5(old));
      c.destroy();
    } finally {
      await server.close();
    }
  });

  it('acknowledged PutObjects survive a SIGKILL; an overwrite in flight leaves the old or the new object, never a torn one', async () => {
    const { dataDir, meta } = await newData();
    const first = await spawnServer(dataDir, meta);
    children.push(first.child);
    const s3 = sdk(first.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'acks' }));
    const v1 = Buffer.alloc(150_000, '1');
    const v2 = Buffer.alloc(150_000, '2');
    await s3.send(new PutObjectCommand({ Bucket: 'acks', Key: 'flip', Body: v1 }));
    const acked: string[] = [];
    let stop = false;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const key = `k-${w}-${i}`;
        try {
          await s3.send(new PutObjectCommand({ Bucket: 'acks', Key: key, Body: `value of ${key}` }));
          acked.push(key);
        } catch {
          return;
        }
      }
    });
    const flip = s3.send(new PutObjectCommand({ Bucket: 'acks', Key: 'flip', Body: v2 })).catch(() => undefined);
    while (acked.length < 20) await new Promise((ok) => setTimeout(ok, 10));
    await kill9(first.child);
    stop = true;
    await Promise.all([...writers, flip]);
    s3.destroy();

    const second = await spawnServer(dataDir, meta);
    children.push(second.child);
    const after = sdk(second.url);
    try {
      for (const key of acked) assert.equal((await getBytes(after, 'acks', key)).toString(), `value of ${key}`, key);
      assert.ok([md5(v1), md5(v2)].includes(md5(await getBytes(after, 'acks', 'flip'))));
    } finally {
      after.destroy();
      await kill9(second.child);
    }
  });
});

describe('blob collector', () => {
  it('frees the blobs of overwritten and deleted objects, keeps live ones, and reaps orphan files', async () => {
    const { server, s3, close } = await liveServer();
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'gc-bucket' }));
      const big = (c: string) => Buffer.alloc(100_000, c);
      await s3.send(new PutObjectCommand({ Bucket: 'gc-bucket', Key: 'a', Body: big('a') }));
      await s3.send(new PutObjectCommand({ Bucket: 'gc-bucket', Key: 'b', Body: big('b') }));
      assert.equal(blobFiles(server.dataDir).length, 2);
      await s3.send(new PutObjectCommand({ Bucket: 'gc-bucket', Key: 'a', Body: big('A') }));
      await s3.send(new DeleteObjectCommand({ Bucket: 'gc-bucket', Key: 'b' }));
      assert.equal(blobFiles(server.dataDir).length, 3, 'nothing unlinked before the collector runs');
      const orphanDir = join(server.dataDir, 'blobs', 'ab');
      const orphan = join(orphanDir, 'fab' + '0'.repeat(28));
      writeFileSync(orphan, 'left by a crash');
      utimesSync(orphan, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
      const r = await server.jobs.runNow({ graceMs: 0 });
      assert.equal(r.collected, 2);
      assert.equal(r.reaped, 1);
      assert.equal(blobFiles(server.dataDir).length, 1);
      assert.equal((await getBytes(s3, 'gc-bucket', 'a')).toString(), big('A').toString());
      assert.equal((await s3Error(() => s3.send(new GetObjectCommand({ Bucket: 'gc-bucket', Key: 'b' })))).name, 'NoSuchKey');
      const young = join(orphanDir, 'fab' + '1'.repeat(28));
      writeFileSync(young, 'being written right now');
      await server.jobs.runNow({ graceMs: 60_000 });
      assert.ok(blobFiles(server.dataDir).includes('fab' + '1'.repeat(28)), 'a blob younger than the grace period is left alone');
    } finally {
      await close();
    }
  });
});
