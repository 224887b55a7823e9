import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  PutObjectCommand, UploadPartCommand, UploadPartCopyCommand, type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';
import type { RunningServer } from '../../src/index.js';
import { bucketName, liveServer } from '../helpers.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
/** A multipart ETag: MD5 of the concatenated binary part MD5s, then `-N`. */
const multipartEtag = (parts: Buffer[]) => `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-${parts.length}"`;
const MiB = 1024 * 1024;

/**
 * Objects built from copied parts: ranges of several sources composed into
 * one object, multipart and inlined sources, the same source many times, and
 * copies that outlive their sources. Parts are at least 5 MiB (AWS's minimum,
 * the server default) where the object is completed.
 */
describe('UploadPartCopy composing objects', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('upcc');

  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => close());

  const read = async (Key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray());
  const create = async (Key: string) => (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }))).UploadId!;
  async function copyParts(Key: string, UploadId: string, ranges: Array<[string, number, number] | [string]>): Promise<CompletedPart[]> {
    const parts: CompletedPart[] = [];
    for (const [i, [src, first, last]] of ranges.entries()) {
      const r = await s3.send(new UploadPartCopyCommand({
        Bucket, Key, UploadId, PartNumber: i + 1, CopySource: `${Bucket}/${src}`, CopySourceRange: first === undefined ? undefined : `bytes=${first}-${last}`,
      }));
      parts.push({ PartNumber: i + 1, ETag: r.CopyPartResult!.ETag });
    }
    return parts;
  }
  const complete = (Key: string, UploadId: string, Parts: CompletedPart[]) =>
    s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));

  it('UploadPartCopy composes one object from ranges of three sources, byte-exact, with the multipart ETag', async () => {
    const sources = { a: randomBytes(6 * MiB), b: randomBytes(7 * MiB + 3), c: randomBytes(5 * MiB + 100) };
    for (const [k, body] of Object.entries(sources)) await s3.send(new PutObjectCommand({ Bucket, Key: k, Body: body }));
    const plan: Array<[keyof typeof sources, number, number]> = [['b', 1 * MiB, 6 * MiB + 2], ['a', 17, 5 * MiB + 16], ['c', 0, 5 * MiB + 99], ['a', 6 * MiB - 10, 6 * MiB - 1]];
    const UploadId = await create('composed');
    const parts = await copyParts('composed', UploadId, plan);
    const pieces = plan.map(([k, first, last]) => sources[k].subarray(first, last + 1));
    parts.forEach((p, i) => assert.equal(p.ETag, `"${md5(pieces[i]).toString('hex')}"`));
    const done = await complete('composed', UploadId, parts);
    assert.equal(done.ETag, multipartEtag(pieces));
    assert.ok((await read('composed')).equals(Buffer.concat(pieces)));
  });

  it('UploadPartCopy from a multipart source copies across its part boundaries', async () => {
    const p1 = randomBytes(5 * MiB);
    const p2 = randomBytes(5 * MiB + 7);
    const p3 = randomBytes(1000);
    const SrcId = await create('mp-src');
    const srcParts: CompletedPart[] = [];
    for (const [i, Body] of [p1, p2, p3].entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp-src', UploadId: SrcId, PartNumber: i + 1, Body }));
      srcParts.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    await complete('mp-src', SrcId, srcParts);
    const whole = Buffer.concat([p1, p2, p3]);
    const UploadId = await create('mp-dst');
    // 5 MiB + 10 bytes from the middle of part 1 into part 2; the whole source; the end of part 2 through part 3.
    const plan: Array<[string, number, number] | [string]> = [['mp-src', 3 * MiB, 8 * MiB + 9], ['mp-src'], ['mp-src', 8 * MiB + 10, whole.length - 1]];
    const parts = await copyParts('mp-dst', UploadId, plan);
    const pieces = [whole.subarray(3 * MiB, 8 * MiB + 10), whole, whole.subarray(8 * MiB + 10)];
    parts.forEach((p, i) => assert.equal(p.ETag, `"${md5(pieces[i]).toString('hex')}"`));
    await complete('mp-dst', UploadId, parts);
    assert.ok((await read('mp-dst')).equals(Buffer.concat(pieces)));
  });

  it('UploadPartCopy of the same inlined source into many parts, then the last part from another object', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'tiny', Body: 'tiny source' }));
    const big = randomBytes(5 * MiB);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'big5', Body: big }));
    const UploadId = await create('many');
    // every part but the last must be 5 MiB: big5 twice, then the tiny one as the last part
    const parts = await copyParts('many', UploadId, [['big5'], ['big5'], ['tiny', 5, 10]]);
    assert.equal(parts[2].ETag, `"${md5(Buffer.from('source')).toString('hex')}"`);
    await complete('many', UploadId, parts);
    assert.ok((await read('many')).equals(Buffer.concat([big, big, Buffer.from('source')])));
  });

  it('UploadPartCopy parts outlive their source: deleting or overwriting it and collecting leaves the copy intact', async () => {
    const old = randomBytes(5 * MiB + 1);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'fleeting', Body: old }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'small-fleeting', Body: 'small and inline' }));
    const UploadId = await create('survivor');
    const parts = await copyParts('survivor', UploadId, [['fleeting', 1, 5 * MiB], ['small-fleeting']]);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'fleeting', Body: 'overwritten' }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'small-fleeting' }));
    await server.jobs.runNow({ graceMs: 0 });
    await complete('survivor', UploadId, parts);
    await server.jobs.runNow({ graceMs: 0 });
    assert.ok((await read('survivor')).equals(Buffer.concat([old.subarray(1, 5 * MiB + 1), Buffer.from('small and inline')])));
    assert.equal((await read('fleeting')).toString(), 'overwritten');
  });

  it('CopyObject outlives its source: the copy references the same blobs, which stay until both are gone', async () => {
    const body = randomBytes(2 * MiB);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'orig', Body: body }));
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'twin', CopySource: `${Bucket}/orig` }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'orig' }));
    await server.jobs.runNow({ graceMs: 0 });
    assert.ok((await read('twin')).equals(body));
  });
});
