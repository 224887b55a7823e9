/**
 * Flexible checksums: known check values, agreement with the AWS SDK's own
 * implementations (what @aws-sdk/client-s3 computes and sends), streaming
 * under arbitrary chunking, CRC combination and the multipart COMPOSITE form.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
// The SDK's checksum implementations (a dependency of @aws-sdk/client-s3).
import { Crc32, Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import {
  CHECKSUM_ALGORITHMS,
  checksumBase64,
  checksumHeader,
  combineCrc,
  compositeChecksum,
  createChecksummer,
  isValidChecksumValue,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from '../../src/util/checksum.js';

const CHECK = Buffer.from('123456789');

/** Raw checksum through the public streaming API. */
function raw(a: ChecksumAlgorithm, data: Buffer): Buffer {
  const c = createChecksummer(a);
  c.update(data);
  return c.digest();
}

/** What the AWS SDK computes for `data`, raw bytes. */
async function sdkRaw(a: ChecksumAlgorithm, data: Buffer): Promise<Buffer> {
  if (a === 'SHA1' || a === 'SHA256') return createHash(a.toLowerCase()).update(data).digest();
  const C = a === 'CRC32' ? Crc32 : a === 'CRC32C' ? Crc32c : Crc64Nvme;
  const c = new C();
  c.update(data);
  return Buffer.from(await c.digest());
}

/** Sizes around the 8-byte block, the 64-byte fast-path threshold, and larger. */
const SIZES = [0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100, 255, 1000, 4096, 65_537, 1 << 20];

describe('algorithm names and headers', () => {
  test('CHECKSUM_ALGORITHMS lists the five S3 algorithms', () => {
    assert.deepEqual([...CHECKSUM_ALGORITHMS], ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']);
  });

  test('checksumHeader gives the x-amz-checksum-* header names', () => {
    assert.equal(checksumHeader('CRC32'), 'x-amz-checksum-crc32');
    assert.equal(checksumHeader('CRC32C'), 'x-amz-checksum-crc32c');
    assert.equal(checksumHeader('CRC64NVME'), 'x-amz-checksum-crc64nvme');
    assert.equal(checksumHeader('SHA1'), 'x-amz-checksum-sha1');
    assert.equal(checksumHeader('SHA256'), 'x-amz-checksum-sha256');
  });

  test('parseChecksumAlgorithm is case-insensitive and rejects unknown names', () => {
    assert.equal(parseChecksumAlgorithm('crc32'), 'CRC32');
    assert.equal(parseChecksumAlgorithm('Crc32C'), 'CRC32C');
    assert.equal(parseChecksumAlgorithm('crc64nvme'), 'CRC64NVME');
    assert.equal(parseChecksumAlgorithm('sha1'), 'SHA1');
    assert.equal(parseChecksumAlgorithm('SHA256'), 'SHA256');
    for (const bad of [undefined, '', 'MD5', 'CRC64', 'sha-256', 'crc32x']) {
      assert.equal(parseChecksumAlgorithm(bad), undefined, String(bad));
    }
  });
});

describe('known check values', () => {
  test('CRC32("123456789") = 0xCBF43926', () => {
    assert.equal(raw('CRC32', CHECK).toString('hex'), 'cbf43926');
  });

  test('CRC32C("123456789") = 0xE3069283', () => {
    assert.equal(raw('CRC32C', CHECK).toString('hex'), 'e3069283');
  });

  test('CRC64NVME("123456789") = 0xAE8B14860A799888', () => {
    assert.equal(raw('CRC64NVME', CHECK).toString('hex'), 'ae8b14860a799888');
  });

  test('SHA1 and SHA256 of "abc" match FIPS 180 vectors', () => {
    assert.equal(raw('SHA1', Buffer.from('abc')).toString('hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d');
    assert.equal(
      raw('SHA256', Buffer.from('abc')).toString('hex'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  test('empty input: CRCs are zero, digests have the right length', () => {
    assert.equal(checksumBase64('CRC32', Buffer.alloc(0)), 'AAAAAA==');
    assert.equal(checksumBase64('CRC32C', Buffer.alloc(0)), 'AAAAAA==');
    assert.equal(checksumBase64('CRC64NVME', Buffer.alloc(0)), 'AAAAAAAAAAA=');
    assert.equal(raw('SHA1', Buffer.alloc(0)).length, 20);
    assert.equal(raw('SHA256', Buffer.alloc(0)).length, 32);
  });
});

describe('agreement with the AWS SDK implementations', () => {
  for (const a of CHECKSUM_ALGORITHMS) {
    test(`${a} matches the SDK over random buffers of assorted sizes`, async () => {
      for (const n of SIZES) {
        const data = randomBytes(n);
        assert.equal(checksumBase64(a, data), (await sdkRaw(a, data)).toString('base64'), `size ${n}`);
      }
    });
  }

  test('unaligned views (subarrays at every offset mod 8) match the SDK', async () => {
    const big = randomBytes(4096 + 16);
    for (const a of ['CRC32C', 'CRC64NVME'] as const) {
      for (let off = 0; off < 8; off++) {
        const view = big.subarray(off, off + 1000 + off);
        assert.equal(checksumBase64(a, view), (await sdkRaw(a, view)).toString('base64'), `${a} offset ${off}`);
      }
    }
  });
});

describe('streaming', () => {
  for (const a of CHECKSUM_ALGORITHMS) {
    test(`${a}: any chunking gives the one-shot result`, () => {
      const data = randomBytes(200_003);
      const whole = raw(a, data);
      for (const chunk of [1, 5, 8, 63, 64, 4099, 65_536]) {
        const c = createChecksummer(a);
        for (let i = 0; i < data.length; i += chunk) c.update(data.subarray(i, i + chunk));
        assert.deepEqual(c.digest(), whole, `chunk ${chunk}`);
      }
    });
  }
});

describe('combineCrc', () => {
  const CRCS = ['CRC32', 'CRC32C', 'CRC64NVME'] as const;

  for (const a of CRCS) {
    test(`${a}: crc(A||B) == combineCrc(crc(A), crc(B), len(B)) for random splits`, () => {
      const data = randomBytes(100_000);
      const cuts = [0, 1, 7, 8, 9, 4096, 99_999, 100_000];
      for (let k = 0; k < 20; k++) cuts.push(Math.floor(Math.random() * (data.length + 1)));
      const whole = raw(a, data);
      for (const cut of cuts) {
        const A = data.subarray(0, cut);
        const B = data.subarray(cut);
        assert.deepEqual(combineCrc(a, raw(a, A), raw(a, B), B.length), whole, `cut ${cut}`);
      }
    });

    test(`${a}: lenB = 0 returns crc(A)`, () => {
      const A = randomBytes(1234);
      const crcA = raw(a, A);
      assert.deepEqual(combineCrc(a, crcA, raw(a, Buffer.alloc(0)), 0), crcA);
    });

    test(`${a}: multi-MiB parts fold into the full-object CRC`, () => {
      const parts = [randomBytes(5 << 20), randomBytes(3 << 20), randomBytes((1 << 20) + 17)];
      let acc = raw(a, parts[0]!);
      for (const p of parts.slice(1)) acc = combineCrc(a, acc, raw(a, p), p.length);
      assert.deepEqual(acc, raw(a, Buffer.concat(parts)));
    });
  }

  test('5 GiB lengths are O(log n): exact on a zero run, fast at 5 GiB', () => {
    // Exactness against real data at a length we can afford (A || 3 MiB of
    // zeros), then 300 combines at ~5 GiB lengths, which would take minutes
    // if the cost grew with the length.
    const n = 3 << 20;
    const A = randomBytes(1000);
    const zeros = Buffer.alloc(n);
    for (const a of CRCS) {
      assert.deepEqual(combineCrc(a, raw(a, A), raw(a, zeros), n), raw(a, Buffer.concat([A, zeros])));
    }
    const FIVE_GIB = 5 * 1024 ** 3;
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) {
      for (const a of CRCS) combineCrc(a, raw(a, A), raw(a, CHECK), FIVE_GIB - i);
    }
    assert.ok(performance.now() - t0 < 2000, 'combining 5 GiB lengths must not scale with the length');
  });

  test('5 GiB combine is associative: (A+B)+C == A+(B+C) with huge lengths', () => {
    // Exercises the high bits of lenB, which the data-backed tests cannot reach.
    for (const a of CRCS) {
      const [cA, cB, cC] = [randomBytes(1), randomBytes(2), randomBytes(3)].map((b) => raw(a, b));
      const lB = 5 * 1024 ** 3 + 3;
      const lC = 4 * 1024 ** 3 + 1;
      const left = combineCrc(a, combineCrc(a, cA!, cB!, lB), cC!, lC);
      const right = combineCrc(a, cA!, combineCrc(a, cB!, cC!, lC), lB + lC);
      assert.deepEqual(left, right, a);
    }
  });

  test('rejects digests of the wrong width and bad lengths', () => {
    assert.throws(() => combineCrc('CRC64NVME', Buffer.alloc(4), Buffer.alloc(4), 1), RangeError);
    assert.throws(() => combineCrc('CRC32', Buffer.alloc(4), Buffer.alloc(4), -1), RangeError);
    assert.throws(() => combineCrc('CRC32', Buffer.alloc(4), Buffer.alloc(4), 1.5), RangeError);
  });
});

describe('compositeChecksum', () => {
  test('CRC32 composite of two parts, hand-computed', () => {
    // Both parts are "123456789": each part's CRC32 is cbf43926. The composite
    // is CRC32 over the 8 bytes cb f4 39 26 cb f4 39 26, which is 0x7023ac4f
    // (zlib agrees, below), base64 "cCOsTw==", suffixed with the part count.
    const part = raw('CRC32', CHECK);
    assert.equal(part.toString('hex'), 'cbf43926');
    assert.equal(zlibCrc32(Buffer.from('cbf43926cbf43926', 'hex')), 0x7023ac4f);
    assert.equal(Buffer.from([0x70, 0x23, 0xac, 0x4f]).toString('base64'), 'cCOsTw==');
    assert.equal(compositeChecksum('CRC32', [part, part]), 'cCOsTw==-2');
  });

  test('SHA256 composite equals sha256 of the concatenated part digests', () => {
    const p1 = Buffer.from('part one');
    const p2 = Buffer.from('part two');
    const d1 = createHash('sha256').update(p1).digest();
    const d2 = createHash('sha256').update(p2).digest();
    const want = createHash('sha256').update(Buffer.concat([d1, d2])).digest('base64') + '-2';
    assert.equal(compositeChecksum('SHA256', [raw('SHA256', p1), raw('SHA256', p2)]), want);
  });

  test('single-part composite still carries "-1"; wrong part width throws', () => {
    const part = raw('CRC32C', CHECK);
    assert.equal(compositeChecksum('CRC32C', [part]), `${checksumBase64('CRC32C', part)}-1`);
    assert.throws(() => compositeChecksum('CRC32C', [Buffer.alloc(8)]), RangeError);
  });
});

describe('isValidChecksumValue', () => {
  test('accepts well-formed values of the right length for each algorithm', () => {
    for (const a of CHECKSUM_ALGORITHMS) {
      assert.ok(isValidChecksumValue(a, checksumBase64(a, randomBytes(10))), a);
    }
  });

  test('rejects wrong lengths, bad base64 and non-canonical forms', () => {
    const crc32 = checksumBase64('CRC32', CHECK); // "y/Q5Jg=="
    assert.equal(crc32, 'y/Q5Jg==');
    assert.equal(isValidChecksumValue('CRC64NVME', crc32), false); // 4 bytes, not 8
    assert.equal(isValidChecksumValue('SHA256', crc32), false);
    assert.equal(isValidChecksumValue('CRC32', ''), false);
    assert.equal(isValidChecksumValue('CRC32', 'y/Q5Jg'), false); // missing padding
    assert.equal(isValidChecksumValue('CRC32', 'y_Q5Jg=='), false); // URL-safe alphabet
    assert.equal(isValidChecksumValue('CRC32', 'y/Q5 Jg=='), false); // junk Node would skip
    assert.equal(isValidChecksumValue('CRC32', 'y/Q5Jh=='), false); // non-zero pad bits
    assert.equal(isValidChecksumValue('CRC32', 'y/Q5Jg==AAAA'), false);
  });
});
