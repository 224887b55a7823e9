/**
 * The hashing pool (worker threads) and CRC-64/NVME prefix checkpoints: a
 * body hashed in the pool's lanes gives the same MD5, checksums and
 * checkpoints as hashing it on the main thread; a file range hashed by a
 * thread that reads it itself matches; and the CRC of a range derived from
 * checkpoints equals the CRC of its bytes at every alignment.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checksumRaw } from '../../src/util/checksum.js';
import { crc64nvme } from '../../src/util/crc64nvme.js';
import { WasmCrc64Nvme, createFastCrc64 } from '../../src/util/crc64nvme-wasm.js';
import { Crc64Checkpoints, planRange, rangeCrc, validCheckpoints, wholeCrc } from '../../src/util/crc-checkpoints.js';
import { HashPool } from '../../src/util/hash-pool.js';

const MiB = 1 << 20;

function checkpointsOf(data: Buffer, chunk: number): Buffer {
  const c = new Crc64Checkpoints();
  for (let i = 0; i < data.length; i += chunk) c.update(data.subarray(i, i + chunk));
  return c.finish();
}

/** The CRC of data[start, end) as a copy derives it: checkpoints plus the head and tail read. */
function derived(cp: Buffer, data: Buffer, start: number, end: number): Buffer {
  const plan = planRange(data.length, start, end);
  const crcOf = ([s, e]: [number, number]) => crc64nvme(data.subarray(s, e));
  return rangeCrc(cp, data.length, plan, crcOf(plan.head), crcOf(plan.tail));
}

describe('CRC-64/NVME on WebAssembly', () => {
  it('runs here and gives the catalogue check value', () => {
    const c = createFastCrc64();
    assert.ok(c instanceof WasmCrc64Nvme);
    c.update(Buffer.from('123456789'));
    assert.equal(c.digest().toString('hex'), 'ae8b14860a799888');
  });

  it('agrees with the TypeScript CRC under any length, offset and chunking', () => {
    const data = randomBytes(3 * MiB + 77);
    for (const n of [0, 1, 7, 8, 9, 15, 64, 1000, MiB - 1, MiB + 1, data.length]) {
      for (const off of [0, 1, 3]) {
        const piece = data.subarray(off, Math.min(data.length, off + n));
        const c = createFastCrc64();
        const cut = Math.floor(piece.length / 3);
        c.update(piece.subarray(0, cut));
        c.update(piece.subarray(cut));
        assert.deepEqual(c.digest(), crc64nvme(piece), `length ${n} at offset ${off}`);
      }
    }
  });
});

describe('CRC-64/NVME prefix checkpoints', () => {
  const data = randomBytes(3 * MiB + 12345);
  const cp = checkpointsOf(data, 64 * 1024 + 7);

  it('are one CRC per 1 MiB prefix plus the whole, whatever the chunking', () => {
    assert.ok(validCheckpoints(cp, data.length));
    assert.equal(cp.length, 1 + 8 * 4);
    assert.deepEqual(cp, checkpointsOf(data, MiB));
    assert.deepEqual(cp.subarray(1, 9), crc64nvme(data.subarray(0, MiB)));
    assert.deepEqual(wholeCrc(cp, data.length), crc64nvme(data));
    assert.ok(!validCheckpoints(cp, data.length + MiB));
  });

  it('derive the CRC of a range at every alignment, equal to reading it', () => {
    const points = [0, 1, 4095, MiB - 1, MiB, MiB + 1, 2 * MiB - 3, 2 * MiB, 2 * MiB + 17, 3 * MiB, 3 * MiB + 1, data.length - 1, data.length];
    let midDerived = 0;
    for (const start of points) {
      for (const end of points) {
        if (end < start) continue;
        if (planRange(data.length, start, end).mid) midDerived++;
        assert.deepEqual(derived(cp, data, start, end), crc64nvme(data.subarray(start, end)), `[${start}, ${end})`);
      }
    }
    assert.ok(midDerived > 30, 'most ranges are derived, not read');
  });

  it('read at most the unaligned head and tail, and nothing for a whole or aligned range', () => {
    const read = (s: number, e: number) => {
      const p = planRange(data.length, s, e);
      return p.mid ? p.head[1] - p.head[0] + p.tail[1] - p.tail[0] : e - s;
    };
    assert.equal(read(0, data.length), 0);
    assert.equal(read(MiB, 3 * MiB), 0);
    assert.equal(read(2 * MiB, data.length), 0);
    assert.equal(read(10, 3 * MiB - 10), MiB - 10 + MiB - 10);
  });

  it('of an empty or sub-granule blob still give its CRC', () => {
    for (const size of [0, 1, 1000]) {
      const d = randomBytes(size);
      const c = checkpointsOf(d, 100);
      assert.ok(validCheckpoints(c, size));
      assert.deepEqual(wholeCrc(c, size), crc64nvme(d));
      assert.deepEqual(derived(c, d, 0, size), crc64nvme(d));
    }
  });
});

describe('HashPool', () => {
  const pool = new HashPool(2);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-hash-pool-'));
  after(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hashes a file as it is written, in two lanes, exactly as the main thread does', async () => {
    assert.equal(await pool.whenReady(), true);
    const data = randomBytes(5 * MiB + 333);
    const path = join(dir, 'followed');
    writeFileSync(path, '');
    const job = pool.follow(path, ['MD5', 'CRC32', 'CRC64NVME'], true);
    assert.ok(job, 'the pool is running');
    assert.equal(job.lanes.length, 2);
    for (let at = 0; at < data.length; at += 700_000) {
      appendFileSync(path, data.subarray(at, at + 700_000));
      job.grow(Math.min(data.length, at + 700_000));
      await job.caughtUp();
    }
    const r = await job.end(data.length);
    assert.deepEqual(r.digests.MD5, createHash('md5').update(data).digest());
    assert.deepEqual(r.digests.CRC32, checksumRaw('CRC32', data));
    assert.deepEqual(r.digests.CRC64NVME, crc64nvme(data));
    assert.deepEqual(r.checkpoints, checkpointsOf(data, MiB));
  });

  it('ends a followed file only once its last bytes have landed', async () => {
    const path = join(dir, 'late');
    writeFileSync(path, 'abc');
    const job = pool.follow(path, ['MD5'], false)!;
    job.grow(3);
    const ended = job.end(6);
    appendFileSync(path, 'def');
    job.grow(6);
    assert.deepEqual((await ended).digests.MD5, createHash('md5').update('abcdef').digest());
  });

  it('hashes file ranges that a thread reads itself, and reports a missing file as ENOENT', async () => {
    const a = randomBytes(2 * MiB + 5);
    const b = randomBytes(70_000);
    writeFileSync(join(dir, 'a'), a);
    writeFileSync(join(dir, 'b'), b);
    const r = await pool.file([{ path: join(dir, 'a'), start: 3, end: a.length - 1 }, { path: join(dir, 'b'), start: 0, end: b.length }], ['MD5', 'SHA256']);
    const want = Buffer.concat([a.subarray(3, a.length - 1), b]);
    assert.deepEqual(r?.digests.MD5, createHash('md5').update(want).digest());
    assert.deepEqual(r?.digests.SHA256, createHash('sha256').update(want).digest());
    await assert.rejects(pool.file([{ path: join(dir, 'gone'), start: 0, end: 1 }], ['MD5']), { code: 'ENOENT' });
  });

  it('keeps serving after an aborted job, and reports a followed file that is gone', async () => {
    const path = join(dir, 'dropped');
    writeFileSync(path, Buffer.alloc(100, 7));
    const job = pool.follow(path, ['MD5'], false)!;
    job.grow(10);
    job.abort();
    await assert.rejects(job.end(100));
    const again = pool.follow(path, ['MD5'], false)!;
    again.grow(100);
    assert.deepEqual((await again.end(100)).digests.MD5, createHash('md5').update(Buffer.alloc(100, 7)).digest());
    const gone = pool.follow(join(dir, 'never'), ['MD5'], false)!;
    await assert.rejects(gone.end(0), { code: 'ENOENT' });
  });
});
