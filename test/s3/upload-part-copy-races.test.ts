import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  PutObjectCommand, UploadPartCommand, UploadPartCopyCommand, type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';
import type { RunningServer } from '../../src/index.js';
import type { MetaStore } from '../../src/meta/types.js';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import { errorCode, raw, xmlField } from './raw-signed.js';

const md5 = (b: string | Buffer) => `"${createHash('md5').update(b).digest('hex')}"`;
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/**
 * Copies racing with writes: a source collected between the read and the
 * commit (retried on the new state), overwrites during copies (old or new
 * bytes, never a mix), read-after-write, and long copies answered with 200,
 * whitespace and then the result or an error document.
 */
describe('UploadPartCopy under concurrency', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('upcr');

  before(async () => {
    ({ s3, server, close } = await liveServer({ minPartSize: 1, keepAliveAfterMs: 100 }));
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => close());

  const create = async (Key: string) => (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }))).UploadId!;
  const read = async (Key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray());

  /** Runs `before` inside the server just before the next call of `method`, then the real call. */
  function interpose<K extends 'putPart' | 'getVersion' | 'putVersion'>(method: K, hook: () => Promise<void>): { calls: () => number; restore: () => void } {
    const meta = server.deps.meta as MetaStore;
    const original = meta[method].bind(meta) as (...a: unknown[]) => Promise<unknown>;
    let calls = 0;
    (meta as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      calls++;
      await hook();
      return original(...args);
    };
    return { calls: () => calls, restore: () => { (meta as unknown as Record<string, unknown>)[method] = original; } };
  }

  /** Makes the source's blobs collectable now, then collects them. */
  async function collect() {
    await sleep(5);
    await server.jobs.runNow({ graceMs: 0 });
  }

  for (const [size, what] of [[100, 'inlined'], [300_000, 'file']] as const) {
    it(`UploadPartCopy whose ${what} source is overwritten and collected before the commit retries on the new source`, async () => {
      const Key = `gone-${what}`;
      const old = randomBytes(size);
      const fresh = randomBytes(size);
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: old }));
      const UploadId = await create('dst');
      let once = true;
      const hook = interpose('putPart', async () => {
        if (!once) return;
        once = false;
        await s3.send(new PutObjectCommand({ Bucket, Key, Body: fresh }));
        await collect();
      });
      try {
        const r = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'dst', UploadId, PartNumber: 1, CopySource: `${Bucket}/${Key}`, CopySourceRange: 'bytes=10-49' }));
        assert.equal(hook.calls(), 2);
        assert.equal(r.CopyPartResult!.ETag, md5(fresh.subarray(10, 50)));
      } finally {
        hook.restore();
      }
      const done = await s3.send(new CompleteMultipartUploadCommand({
        Bucket, Key: 'dst', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: md5(fresh.subarray(10, 50)) }] },
      }));
      assert.ok(done.ETag);
      assert.ok((await read('dst')).equals(fresh.subarray(10, 50)));
    });
  }

  it('UploadPartCopy whose source is deleted and collected before the commit answers NoSuchKey', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'doomed', Body: randomBytes(200_000) }));
    const UploadId = await create('dst2');
    let once = true;
    const hook = interpose('putPart', async () => {
      if (!once) return;
      once = false;
      await s3.send(new DeleteObjectCommand({ Bucket, Key: 'doomed' }));
      await collect();
    });
    try {
      const e = await s3Error(() => s3.send(new UploadPartCopyCommand({ Bucket, Key: 'dst2', UploadId, PartNumber: 1, CopySource: `${Bucket}/doomed` })));
      assert.equal(e.name, 'NoSuchKey');
      assert.equal(hook.calls(), 1);
    } finally {
      hook.restore();
    }
  });

  it('CopyObject whose source is overwritten and collected before the commit retries on the new source', async () => {
    const fresh = randomBytes(150_000);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'co-src', Body: randomBytes(150_000) }));
    let once = true;
    const hook = interpose('putVersion', async () => {
      if (!once) return;
      once = false;
      await s3.send(new PutObjectCommand({ Bucket, Key: 'co-src', Body: fresh }));
      await collect();
    });
    try {
      const r = await s3.send(new CopyObjectCommand({ Bucket, Key: 'co-dst', CopySource: `${Bucket}/co-src` }));
      assert.equal(r.CopyObjectResult!.ETag, md5(fresh));
    } finally {
      hook.restore();
    }
    assert.ok((await read('co-dst')).equals(fresh));
  });

  it('UploadPartCopy racing with overwrites of its source copies the old or the new bytes, never a mix', async () => {
    const versions = Array.from({ length: 8 }, () => randomBytes(400_000));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'racy', Body: versions[0] }));
    const UploadId = await create('racy-dst');
    const parts: CompletedPart[] = [];
    const expected: Buffer[] = [];
    for (let i = 1; i < versions.length; i++) {
      const [copied] = await Promise.all([
        s3.send(new UploadPartCopyCommand({ Bucket, Key: 'racy-dst', UploadId, PartNumber: i, CopySource: `${Bucket}/racy`, CopySourceRange: 'bytes=1000-299999' })),
        s3.send(new PutObjectCommand({ Bucket, Key: 'racy', Body: versions[i] })),
      ]);
      const etag = copied.CopyPartResult!.ETag!;
      const match = [versions[i - 1], versions[i]].map((v) => v.subarray(1000, 300_000)).find((r) => md5(r) === etag);
      assert.ok(match, `part ${i} is neither the old nor the new range`);
      parts.push({ PartNumber: i, ETag: etag });
      expected.push(match);
      await server.jobs.runNow({ graceMs: 0 });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'racy-dst', UploadId, MultipartUpload: { Parts: parts } }));
    assert.ok((await read('racy-dst')).equals(Buffer.concat(expected)));
  });

  it('UploadPartCopy right after PutObject or CompleteMultipartUpload returned sees the new object', async () => {
    const UploadId = await create('raw-dst');
    for (let i = 0; i < 15; i++) {
      const body = `content number ${i} ${'x'.repeat(i * 5000)}`;
      await s3.send(new PutObjectCommand({ Bucket, Key: 'fresh', Body: body }));
      const r = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'raw-dst', UploadId, PartNumber: 1, CopySource: `${Bucket}/fresh` }));
      assert.equal(r.CopyPartResult!.ETag, md5(body));
    }
    const SrcId = await create('mp-fresh');
    const part = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp-fresh', UploadId: SrcId, PartNumber: 1, Body: 'completed just now' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'mp-fresh', UploadId: SrcId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    const r = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'raw-dst', UploadId, PartNumber: 2, CopySource: `${Bucket}/mp-fresh` }));
    assert.equal(r.CopyPartResult!.ETag, md5('completed just now'));
  });

  describe('UploadPartCopy that runs long', () => {
    /** Slows every source lookup past the server's keep-alive threshold (100 ms) and its 1 s whitespace tick. */
    let hook: { restore: () => void };
    before(async () => {
      await s3.send(new PutObjectCommand({ Bucket, Key: 'slow-src', Body: 'slow but sure' }));
      hook = interpose('getVersion', async () => { await sleep(1300); });
    });
    after(() => hook.restore());

    it('UploadPartCopy answers 200 at once, whitespace, then the CopyPartResult; the SDK reads it', async () => {
      const UploadId = await create('slow-dst');
      const r = await raw(server, { method: 'PUT', path: `/${Bucket}/slow-dst`, query: { partNumber: '1', uploadId: UploadId }, headers: { 'x-amz-copy-source': `${Bucket}/slow-src` } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['transfer-encoding'], 'chunked');
      assert.match(r.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n +<CopyPartResult/);
      assert.equal(xmlField(r.body, 'ETag'), md5('slow but sure').replace(/"/g, '&quot;'));
      const sdk = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'slow-dst', UploadId, PartNumber: 2, CopySource: `${Bucket}/slow-src` }));
      assert.equal(sdk.CopyPartResult!.ETag, md5('slow but sure'));
    });

    it('UploadPartCopy that fails late answers 200 with an Error document; the SDK raises the error', async () => {
      const UploadId = await create('slow-dst');
      const r = await raw(server, { method: 'PUT', path: `/${Bucket}/slow-dst`, query: { partNumber: '1', uploadId: UploadId }, headers: { 'x-amz-copy-source': `${Bucket}/missing` } });
      assert.equal(r.status, 200);
      assert.match(r.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n +<Error>/);
      assert.equal(errorCode(r.body), 'NoSuchKey');
      const e = await s3Error(() => s3.send(new UploadPartCopyCommand({ Bucket, Key: 'slow-dst', UploadId, PartNumber: 1, CopySource: `${Bucket}/missing` })));
      assert.equal(e.name, 'NoSuchKey');
      const c = await s3Error(() => s3.send(new CopyObjectCommand({ Bucket, Key: 'slow-copy', CopySource: `${Bucket}/missing` })));
      assert.equal(c.name, 'NoSuchKey');
    });
  });
});
