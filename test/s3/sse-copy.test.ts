import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, PutObjectCommand, UploadPartCommand, UploadPartCopyCommand, type S3Client,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/index.js';
import { bucketName, liveServer, s3Error } from '../helpers.js';

/**
 * Copies between every pair of encryption settings, through CopyObject and
 * UploadPartCopy: the bytes read back, the destination answers its own
 * encryption, and an encrypted source is copied without writing any blob
 * (its data keys are rewrapped).
 */
const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);
const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');
const md5b64 = (b: Buffer) => createHash('md5').update(b).digest('base64');

type Enc = 'plain' | 'sse-c-a' | 'sse-c-b' | 'sse-s3' | 'sse-kms';
const SOURCES: Enc[] = ['plain', 'sse-c-a', 'sse-s3', 'sse-kms'];
const DESTS: Enc[] = ['plain', 'sse-c-a', 'sse-c-b', 'sse-s3', 'sse-kms'];

let kmsKeyId = '';

/** Write-side parameters for an encryption setting. */
function put(enc: Enc): Record<string, unknown> {
  switch (enc) {
    case 'plain': return {};
    case 'sse-c-a': return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_A.toString('base64') };
    case 'sse-c-b': return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY_B.toString('base64') };
    case 'sse-s3': return { ServerSideEncryption: 'AES256' };
    case 'sse-kms': return { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKeyId };
  }
}

/** Copy-source parameters for a source encryption setting. */
function source(enc: Enc): Record<string, unknown> {
  if (enc === 'sse-c-a') return { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: KEY_A.toString('base64') };
  if (enc === 'sse-c-b') return { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: KEY_B.toString('base64') };
  return {};
}

/** Read-side parameters: only SSE-C needs any. */
function read(enc: Enc): Record<string, unknown> {
  return enc.startsWith('sse-c') ? put(enc) : {};
}

function blobCount(server: RunningServer): number {
  const root = join(server.dataDir, 'blobs');
  return readdirSync(root).reduce((n, d) => n + readdirSync(join(root, d)).length, 0);
}

/** What the destination must answer about its encryption. */
function checkAnswer(r: { ServerSideEncryption?: string; SSECustomerKeyMD5?: string; SSEKMSKeyId?: string }, src: Enc, dst: Enc, what: string): void {
  const expected = dst === 'plain' ? (src === 'plain' ? undefined : 'AES256') : dst === 'sse-s3' ? 'AES256' : dst === 'sse-kms' ? 'aws:kms' : undefined;
  assert.equal(r.ServerSideEncryption, expected, `${what}: ServerSideEncryption`);
  if (dst.startsWith('sse-c')) assert.equal(r.SSECustomerKeyMD5, md5b64(dst === 'sse-c-a' ? KEY_A : KEY_B), `${what}: key MD5`);
  if (dst === 'sse-kms') assert.ok(r.SSEKMSKeyId?.endsWith(`key/${kmsKeyId}`), `${what}: KMS key`);
}

async function bytes(s3: S3Client, input: Record<string, unknown>): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand(input as never));
  return Buffer.from(await r.Body!.transformToByteArray());
}

describe('copies between encryption settings', () => {
  let server: RunningServer;
  let s3: S3Client;
  let close: () => Promise<void>;
  const bucket = bucketName('sse-copy');
  const data = randomBytes(200_000);

  before(async () => {
    ({ server, s3, close } = await liveServer({ minPartSize: 100_000 }));
    kmsKeyId = server.deps.sseKeys.createKey({ description: 'copy tests' }).id;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const src of SOURCES) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `src-${src}`, Body: data, ...put(src) } as never));
  });
  after(() => close());

  for (const src of SOURCES) {
    for (const dst of DESTS) {
      it(`CopyObject ${src} -> ${dst}`, async () => {
        const before = blobCount(server);
        const key = `copy-${src}-${dst}`;
        const r = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${bucket}/src-${src}`, ...source(src), ...put(dst) } as never));
        checkAnswer(r, src, dst, 'CopyObject');
        const etag = r.CopyObjectResult!.ETag;
        if (dst.startsWith('sse-c') || dst === 'sse-kms') assert.notEqual(etag, `"${md5hex(data)}"`);
        else assert.equal(etag, `"${md5hex(data)}"`);
        const written = blobCount(server) - before;
        assert.equal(written, src === 'plain' && dst !== 'plain' ? 1 : 0, 'blobs written by the copy');
        assert.deepEqual(await bytes(s3, { Bucket: bucket, Key: key, ...read(dst) }), data);
        const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=65530-131080', ...read(dst) } as never));
        checkAnswer(g, src, dst, 'GetObject');
        assert.deepEqual(Buffer.from(await g.Body!.transformToByteArray()), data.subarray(65530, 131081));
      });

      it(`UploadPartCopy ${src} -> ${dst}`, async () => {
        const key = `part-${src}-${dst}`;
        const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...put(dst) } as never));
        const before = blobCount(server);
        const p1 = await s3.send(new UploadPartCopyCommand({
          Bucket: bucket, Key: key, UploadId: c.UploadId, PartNumber: 1, CopySource: `${bucket}/src-${src}`, CopySourceRange: 'bytes=1000-150999',
          ...source(src), ...read(dst),
        } as never));
        assert.equal(blobCount(server) - before, src === 'plain' && dst !== 'plain' ? 1 : 0, 'blobs written by the copy');
        const slice = data.subarray(1000, 151000);
        if (dst.startsWith('sse-c') || dst === 'sse-kms') assert.notEqual(p1.CopyPartResult!.ETag, `"${md5hex(slice)}"`);
        else assert.equal(p1.CopyPartResult!.ETag, `"${md5hex(slice)}"`);
        const tail = randomBytes(70_000);
        const p2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: c.UploadId, PartNumber: 2, Body: tail, ...read(dst) } as never));
        await s3.send(new CompleteMultipartUploadCommand({
          Bucket: bucket, Key: key, UploadId: c.UploadId,
          MultipartUpload: { Parts: [{ ETag: p1.CopyPartResult!.ETag, PartNumber: 1 }, { ETag: p2.ETag, PartNumber: 2 }] },
        }));
        const all = Buffer.concat([slice, tail]);
        assert.deepEqual(await bytes(s3, { Bucket: bucket, Key: key, ...read(dst) }), all);
        assert.deepEqual(await bytes(s3, { Bucket: bucket, Key: key, Range: 'bytes=149000-151000', ...read(dst) }), all.subarray(149000, 151001));
      });
    }
  }

  it('CopyObject from an SSE-C source needs the source key, the right one, and refuses one for an unencrypted source', async () => {
    const none = await s3Error(() => s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/src-sse-c-a` })));
    assert.equal(none.name, 'InvalidRequest');
    assert.equal(none.message, 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
    const wrong = await s3Error(() => s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/src-sse-c-a`, ...source('sse-c-b') } as never)));
    assert.equal(wrong.status, 403);
    const plain = await s3Error(() => s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/src-plain`, ...source('sse-c-a') } as never)));
    assert.equal(plain.message, 'The encryption parameters are not applicable to this object.');
  });

  it('UploadPartCopy and CopyObject answer a source SSE-C triad identically (missing, wrong, needless, malformed key)', async () => {
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'same' }));
    const short = { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: randomBytes(16).toString('base64') };
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['src-sse-c-a', {}, 'InvalidRequest'], ['src-sse-c-a', source('sse-c-b'), 'AccessDenied'],
      ['src-plain', source('sse-c-a'), 'InvalidRequest'], ['src-sse-c-a', short, 'InvalidArgument'],
    ];
    for (const [from, triad, code] of cases) {
      const viaCopy = await s3Error(() => s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'same', CopySource: `${bucket}/${from}`, ...triad } as never)));
      const viaPart = await s3Error(() => s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'same', UploadId: c.UploadId, PartNumber: 1, CopySource: `${bucket}/${from}`, ...triad } as never)));
      assert.equal(viaCopy.name, code, `${from} ${JSON.stringify(triad)}`);
      assert.deepEqual([viaPart.name, viaPart.status, viaPart.message], [viaCopy.name, viaCopy.status, viaCopy.message]);
    }
  });

  it('UploadPartCopy into an SSE-C upload must present the upload\'s key', async () => {
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mk', ...put('sse-c-a') } as never));
    const e = await s3Error(() => s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'mk', UploadId: c.UploadId, PartNumber: 1, CopySource: `${bucket}/src-plain`, ...put('sse-c-b') } as never)));
    assert.equal(e.message, 'The provided encryption parameters did not match the ones used originally.');
  });

  it('a rewrapped copy still reads after its source is deleted', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: data, ...put('sse-c-a') } as never));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'kept', CopySource: `${bucket}/gone`, ...source('sse-c-a'), ...put('sse-kms') } as never));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    await server.jobs.runNow({ graceMs: 0 });
    assert.deepEqual(await bytes(s3, { Bucket: bucket, Key: 'kept' }), data);
  });
});
