import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { deriveKek, openDataKey, parseSealed, rewrapDataKey, type Kek } from '../../src/crypto/envelope.js';
import { IntegrityError, SEGMENT_SIZE, STORED_SEGMENT_SIZE, storedSize } from '../../src/crypto/format.js';
import { ServerKeys } from '../../src/crypto/keys.js';
import { BlobEncryptor, createEncryptStream, decryptRange, storedRange } from '../../src/crypto/stream.js';

const S = SEGMENT_SIZE;
const kekA = deriveKek('c', randomBytes(32));
const kekB = deriveKek('c', randomBytes(32));

/** Encrypts `plain` fed in uneven chunks; returns the stored bytes and the sealed key. */
function encrypt(plain: Buffer, blobId = 'fblob', kek: Kek = kekA, chunk = 10_000): { stored: Buffer; sealed: string } {
  const enc = new BlobEncryptor(blobId);
  const out: Buffer[] = [];
  for (let i = 0; i < plain.length; i += chunk) out.push(...enc.update(plain.subarray(i, i + chunk)));
  out.push(...enc.final());
  return { stored: Buffer.concat(out), sealed: enc.seal(kek) };
}

async function decrypt(stored: Buffer, sealed: string, off: number, len: number, blobId = 'fblob', kek: Kek = kekA, piece = 7_777): Promise<Buffer> {
  const { dk, plainSize } = openDataKey(sealed, blobId, kek);
  const r = storedRange(plainSize, off, len);
  const slice = stored.subarray(r.start, r.end);
  async function* pieces() {
    for (let i = 0; i < slice.length; i += piece) yield slice.subarray(i, i + piece);
  }
  const out: Buffer[] = [];
  for await (const b of decryptRange(pieces(), dk, blobId, plainSize, off, len)) out.push(b);
  return Buffer.concat(out);
}

describe('crypto format', () => {
  it('round trips sizes around segment boundaries', async () => {
    for (const n of [1, 100, S - 1, S, S + 1, 2 * S, 3 * S + 17]) {
      const plain = randomBytes(n);
      const { stored, sealed } = encrypt(plain);
      assert.equal(stored.length, storedSize(n), `stored size for ${n}`);
      assert.notDeepEqual(stored.subarray(0, Math.min(n, 32)), plain.subarray(0, 32));
      assert.deepEqual(await decrypt(stored, sealed, 0, n), plain, `round trip of ${n}`);
    }
  });

  it('reads ranges that cross segment boundaries, touching only their segments', async () => {
    const plain = randomBytes(4 * S + 1234);
    const { stored, sealed } = encrypt(plain, 'fblob', kekA, 65_000);
    const cases: Array<[number, number]> = [[0, 1], [S - 1, 2], [S - 10, S + 20], [S, S], [3 * S + 5, S + 1229], [4 * S, 1234], [12345, 3 * S]];
    for (const [off, len] of cases) {
      assert.deepEqual(await decrypt(stored, sealed, off, len), plain.subarray(off, off + len), `range ${off}+${len}`);
    }
    const r = storedRange(plain.length, S + 1, 10);
    assert.deepEqual([r.start, r.end, r.first, r.last], [STORED_SEGMENT_SIZE, 2 * STORED_SEGMENT_SIZE, 1, 1]);
  });

  it('a flipped byte anywhere fails with IntegrityError, never wrong bytes', async () => {
    const plain = randomBytes(2 * S + 100);
    const { stored, sealed } = encrypt(plain);
    for (const at of [0, S - 1, S + 15, STORED_SEGMENT_SIZE + 3, stored.length - 1]) {
      const bad = Buffer.from(stored);
      bad[at] ^= 0x01;
      await assert.rejects(decrypt(bad, sealed, 0, plain.length), IntegrityError, `flip at ${at}`);
    }
  });

  it('swapped segments and segments moved between blobs fail', async () => {
    const plain = randomBytes(2 * S);
    const { stored, sealed } = encrypt(plain);
    const swapped = Buffer.concat([stored.subarray(STORED_SEGMENT_SIZE), stored.subarray(0, STORED_SEGMENT_SIZE)]);
    await assert.rejects(decrypt(swapped, sealed, 0, plain.length), IntegrityError);
    assert.throws(() => openDataKey(sealed, 'fother', kekA), IntegrityError);
  });

  it('a truncated blob fails', async () => {
    const plain = randomBytes(S + 500);
    const { stored, sealed } = encrypt(plain);
    await assert.rejects(decrypt(stored.subarray(0, stored.length - 1), sealed, 0, plain.length), IntegrityError);
    await assert.rejects(decrypt(stored.subarray(0, STORED_SEGMENT_SIZE), sealed, 0, plain.length), IntegrityError);
  });

  it('the wrong key cannot open a sealed data key', () => {
    const { sealed } = encrypt(randomBytes(10));
    assert.throws(() => openDataKey(sealed, 'fblob', kekB), IntegrityError);
    assert.throws(() => openDataKey(sealed, 'fblob', deriveKek('s', randomBytes(32))), IntegrityError);
  });

  it('an altered plaintext size in the seal fails', () => {
    const { sealed } = encrypt(randomBytes(10));
    const parts = sealed.split('.');
    parts[3] = '11';
    assert.throws(() => openDataKey(parts.join('.'), 'fblob', kekA), IntegrityError);
  });

  it('rewrapping changes the seal, not the data', async () => {
    const plain = randomBytes(S + 3);
    const { stored, sealed } = encrypt(plain);
    const kms = deriveKek('k', randomBytes(32), { keyId: 'key-1', context: 'ctx' });
    const rewrapped = rewrapDataKey(sealed, 'fblob', kekA, kms);
    assert.equal(parseSealed(rewrapped).kind, 'k');
    assert.equal(parseSealed(rewrapped).keyId, 'key-1');
    assert.deepEqual(await decrypt(stored, rewrapped, 0, plain.length, 'fblob', kms), plain);
    assert.throws(() => openDataKey(rewrapped, 'fblob', { ...kms, context: 'other' }), IntegrityError);
    assert.throws(() => openDataKey(rewrapped, 'fblob', kekA), IntegrityError);
  });

  it('the Transform produces the same format', async () => {
    const plain = randomBytes(3 * S + 9);
    const { stream, encryptor } = createEncryptStream('fstream');
    const chunks: Buffer[] = [];
    for await (const c of Readable.from([plain.subarray(0, 1000), plain.subarray(1000)]).pipe(stream)) chunks.push(c as Buffer);
    const stored = Buffer.concat(chunks);
    assert.equal(stored.length, storedSize(plain.length));
    assert.deepEqual(await decrypt(stored, encryptor.seal(kekB), 0, plain.length, 'fstream', kekB), plain);
  });
});

describe('crypto server keys', () => {
  it('creates the master key once, private to the owner, and keeps it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
    try {
      const a = new ServerKeys(dir, pino({ level: 'silent' }));
      const kek = a.masterKek();
      const mode = statSync(a.masterKeyFile).mode & 0o777;
      assert.equal(mode, 0o600);
      const b = new ServerKeys(dir, pino({ level: 'silent' }));
      assert.deepEqual(b.masterKek().key, kek.key);
      assert.equal(Buffer.from(readFileSync(a.masterKeyFile, 'utf8').trim(), 'base64').length, 32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keyring keys are found by id, the default key is created once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
    try {
      const a = new ServerKeys(dir, pino({ level: 'silent' }));
      const d1 = a.defaultKmsKey();
      const created = a.createKey({ description: 'mine' });
      const b = new ServerKeys(dir, pino({ level: 'silent' }));
      assert.equal(b.defaultKmsKey().id, d1.id);
      assert.equal(b.kmsKey(created.id)?.description, 'mine');
      assert.equal(b.kmsKey('nope'), undefined);
      a.setKeyState(created.id, 'Disabled');
      assert.equal(new ServerKeys(dir, pino({ level: 'silent' })).kmsKey(created.id)?.state, 'Disabled');
      assert.notDeepEqual(a.kmsKek(created, 'x').key, a.kmsKek(d1, 'x').key);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('crypto digest sanity', () => {
  it('stored bytes do not reveal the plaintext MD5', () => {
    const plain = Buffer.alloc(1000, 7);
    const { stored } = encrypt(plain);
    assert.notEqual(createHash('md5').update(stored).digest('hex'), createHash('md5').update(plain).digest('hex'));
  });
});
