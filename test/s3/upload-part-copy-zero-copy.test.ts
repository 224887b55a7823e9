import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  PutObjectCommand, UploadPartCopyCommand, type S3Client,
} from '@aws-sdk/client-s3';
import type { RunningServer } from '../../src/index.js';
import { createChecksummer } from '../../src/util/checksum.js';
import { bucketName, client, liveServer } from '../helpers.js';

const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;
const BASE = createHash('sha256').update('tessera').digest().toString('hex').repeat(MiB / 64);

/** Chunk `i` of the 1 GiB source: a fixed MiB pattern stamped with its index, so every MiB differs. */
function chunk(i: number): Buffer {
  const b = Buffer.from(BASE, 'latin1');
  b.writeUInt32BE(i, 0);
  return b;
}
function byteAt(pos: number): number {
  const i = Math.floor(pos / MiB);
  const off = pos % MiB;
  return off < 4 ? (i >>> (8 * (3 - off))) & 0xff : BASE.charCodeAt(off);
}
function expected(start: number, end: number): Buffer {
  const out = Buffer.alloc(end - start);
  for (let p = start; p < end; p++) out[p - start] = byteAt(p);
  return out;
}
/** The MD5 of source bytes [start, SIZE), computed here without holding them. */
function md5From(start: number): string {
  const h = createHash('md5');
  for (let i = Math.floor(start / MiB); i < SIZE / MiB; i++) h.update(i === Math.floor(start / MiB) ? chunk(i).subarray(start % MiB) : chunk(i));
  return h.digest('hex');
}

async function blobFiles(dir: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const sub of await readdir(dir)) for (const f of await readdir(join(dir, sub))) out.add(f);
  return out;
}

/**
 * Zero-copy: copying a 1 GiB range writes no data blob (checked on the data
 * directory) and reads the range at most once (checked by counting what the
 * blob store is asked for); a range that is one whole blob with a known MD5
 * is not read at all.
 */
describe('UploadPartCopy zero-copy', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('zc');
  let sourceEtag: string;
  let bytesRead = 0;
  let pooledBase = 0;
  /** Bytes of blob files read since `resetReads`: through the blob store or by a hashing thread. */
  const readBytes = () => bytesRead + server.deps.hashPool.fileBytesRead - pooledBase;
  const resetReads = () => {
    bytesRead = 0;
    pooledBase = server.deps.hashPool.fileBytesRead;
  };

  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket }));
    // Streamed from a generator: the test never holds the gigabyte. Its CRC64NVME is sent as a
    // header: the source keeps AWS's default full-object checksum, from which a whole copy into
    // an upload without an algorithm takes its part checksum without reading.
    const crc = createChecksummer('CRC64NVME');
    for (let i = 0; i < SIZE / MiB; i++) crc.update(chunk(i));
    const ChecksumCRC64NVME = crc.digest().toString('base64');
    const lean = client(server, { requestChecksumCalculation: 'WHEN_REQUIRED' });
    async function* body() {
      for (let i = 0; i < SIZE / MiB; i++) yield chunk(i);
    }
    const put = await lean.send(new PutObjectCommand({ Bucket, Key: 'giga', Body: Readable.from(body()), ContentLength: SIZE, ChecksumCRC64NVME }));
    assert.equal(put.ChecksumCRC64NVME, ChecksumCRC64NVME);
    lean.destroy();
    sourceEtag = put.ETag!;
    const blobs = server.deps.blobs;
    const read = blobs.read.bind(blobs);
    blobs.read = (id, start, end) => {
      bytesRead += end - start;
      return read(id, start, end);
    };
  });
  after(() => close());

  it('UploadPartCopy of 1 GiB: the whole blob needs no read, an unaligned range one pass; no blob file is written', async () => {
    const dir = join(server.dataDir, 'blobs');
    const filesBefore = await blobFiles(dir);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'giga-copy' }));

    resetReads();
    const whole = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'giga-copy', UploadId, PartNumber: 1, CopySource: `${Bucket}/giga`, CopySourceRange: `bytes=0-${SIZE - 1}` }));
    assert.equal(whole.CopyPartResult!.ETag, sourceEtag);
    assert.equal(readBytes(), 0);

    resetReads();
    const shifted = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'giga-copy', UploadId, PartNumber: 2, CopySource: `${Bucket}/giga`, CopySourceRange: `bytes=1-${SIZE - 1}` }));
    assert.equal(shifted.CopyPartResult!.ETag, `"${md5From(1)}"`);
    assert.equal(readBytes(), SIZE - 1);

    resetReads();
    const obj = await s3.send(new CopyObjectCommand({ Bucket, Key: 'giga-twin', CopySource: `${Bucket}/giga` }));
    assert.equal(obj.CopyObjectResult!.ETag, sourceEtag);
    assert.equal(readBytes(), 0);

    const done = await s3.send(new CompleteMultipartUploadCommand({
      Bucket, Key: 'giga-copy', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: whole.CopyPartResult!.ETag }, { PartNumber: 2, ETag: shifted.CopyPartResult!.ETag }] },
    }));
    assert.match(done.ETag!, /-2"$/);
    assert.deepEqual(await blobFiles(dir), filesBefore);

    // The source goes; the copies stay byte-exact where it matters: the edges and the part boundary.
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'giga' }));
    await new Promise((ok) => setTimeout(ok, 5));
    await server.jobs.runNow({ graceMs: 0 });
    const range = async (Key: string, a: number, b: number) =>
      Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key, Range: `bytes=${a}-${b}` }))).Body!.transformToByteArray());
    assert.ok((await range('giga-copy', 0, 99)).equals(expected(0, 100)));
    const boundary = await range('giga-copy', SIZE - 50, SIZE + 49);
    assert.ok(boundary.equals(Buffer.concat([expected(SIZE - 50, SIZE), expected(1, 51)])));
    assert.ok((await range('giga-copy', 2 * SIZE - 101, 2 * SIZE - 2)).equals(expected(SIZE - 100, SIZE)));
    assert.ok((await range('giga-twin', SIZE - 10, SIZE - 1)).equals(expected(SIZE - 10, SIZE)));
  });
});
