/**
 * decodeBody(): the body a client sent, checked against what its signature
 * promised. aws-chunked bodies arrive cut at arbitrary places, with signed
 * chunks, signed trailers, unsigned trailers, or broken in every way a client
 * or a network can break them: each must end in the S3 error AWS gives, never
 * a hang, a crash or wrong bytes.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { decodeBody, deriveSigningKey, type AuthResult, type PayloadMode } from '../../src/auth/index.js';
import { S3Error } from '../../src/errors.js';
import { DOC_CREDENTIALS, encodeChunked, outcome, sha256Hex, signerOf, split, streamOf } from './fixtures/sigv4/helpers.js';

const SCOPE = '20130524/us-east-1/s3/aws4_request';
const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';

function authOf(payload: PayloadMode, decodedContentLength?: number, minChunkSize?: number): AuthResult {
  return {
    anonymous: false,
    credentials: DOC_CREDENTIALS,
    payload,
    signingKey: deriveSigningKey(DOC_CREDENTIALS.secretAccessKey, '20130524', 'us-east-1', 's3'),
    signature: SEED,
    scope: SCOPE,
    amzDate: '20130524T000000Z',
    decodedContentLength,
    minChunkSize,
  };
}

const SIGNED = authOf({ kind: 'chunked-signed', trailer: false });
const SIGNED_TRAILER = authOf({ kind: 'chunked-signed', trailer: true });
const UNSIGNED_TRAILER = authOf({ kind: 'chunked-unsigned', trailer: true });
const DATA = randomBytes(3 * 8192 + 100);
const CRC = { 'x-amz-checksum-crc32': 'AAAAAA==' };

async function decode(auth: AuthResult, body: Buffer, headers: Record<string, string> = {}, cuts?: number[]) {
  const decodedLength = auth.decodedContentLength ?? DATA.length;
  const withLength = { ...auth, decodedContentLength: decodedLength };
  const stream = decodeBody(streamOf(body, cuts), withLength, headers);
  const result = await outcome(stream);
  return { result, trailers: stream.trailers };
}

function assertError(result: Buffer | S3Error, code: string, fields?: Record<string, unknown>): S3Error {
  assert.ok(result instanceof S3Error, `expected ${code}, got ${(result as Buffer).length} bytes`);
  assert.equal(result.code, code, result.message);
  if (fields) for (const [k, v] of Object.entries(fields)) assert.equal(String(result.fields[k]), String(v), k);
  return result;
}

/** Cut sizes that put boundaries inside headers, CRLFs, signatures and data. */
const CUTS: number[][] = [[1], [2], [3, 5, 7], [17], [64], [8193], [65536], [1 << 20]];

describe('signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
  const body = encodeChunked(split(DATA, 8192), signerOf(SIGNED));

  for (const cuts of CUTS) {
    test(`decode exactly when the body arrives in pieces of ${cuts.join(',')} bytes`, async () => {
      const { result } = await decode(SIGNED, body, {}, cuts);
      assert.ok(Buffer.isBuffer(result) && result.equals(DATA));
    });
  }

  test('an empty object: only the final chunk', async () => {
    const { result } = await decode({ ...SIGNED, decodedContentLength: 0 }, encodeChunked([], signerOf(SIGNED)));
    assert.deepEqual(result, Buffer.alloc(0));
  });

  const corrupt = (text: string, index: number) => {
    const copy = Buffer.from(body);
    let at = -1;
    for (let i = 0; i <= index; i++) at = copy.indexOf(text, at + 1);
    copy[at + text.length] = copy[at + text.length] === 0x30 ? 0x31 : 0x30;
    return copy;
  };
  for (const [name, index] of [['first', 0], ['second', 1], ['final', 4]] as const) {
    test(`a bad signature of the ${name} chunk: SignatureDoesNotMatch`, async () => {
      const { result } = await decode(SIGNED, corrupt('chunk-signature=', index));
      const e = assertError(result, 'SignatureDoesNotMatch', { AWSAccessKeyId: DOC_CREDENTIALS.accessKeyId });
      assert.match(String(e.fields.StringToSign), /^AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n/);
    });
  }

  test('changed data under a good signature: SignatureDoesNotMatch', async () => {
    const copy = Buffer.from(body);
    copy[body.indexOf('\r\n') + 100] ^= 1;
    assertError((await decode(SIGNED, copy)).result, 'SignatureDoesNotMatch');
  });

  test('a chunk without a signature, or a garbled one: SignatureDoesNotMatch', async () => {
    const bare = Buffer.from(body.toString('latin1').replace(/;chunk-signature=[0-9a-f]{64}/, ''), 'latin1');
    assertError((await decode(SIGNED, bare)).result, 'SignatureDoesNotMatch');
    const short = Buffer.from(body.toString('latin1').replace(/chunk-signature=[0-9a-f]{64}/, 'chunk-signature=xxxxxxxx'), 'latin1');
    assertError((await decode(SIGNED, short)).result, 'SignatureDoesNotMatch');
  });

  test('chunks replayed from another upload (other seed): SignatureDoesNotMatch', async () => {
    const other = encodeChunked(split(DATA, 8192), { ...signerOf(SIGNED), seed: 'f'.repeat(64) });
    assertError((await decode(SIGNED, other)).result, 'SignatureDoesNotMatch');
  });

  test('a chunk below 8192 bytes that is not the last one: InvalidChunkSizeError', async () => {
    const small = encodeChunked([DATA.subarray(0, 8191), DATA.subarray(8191)], signerOf(SIGNED));
    const e = assertError((await decode(SIGNED, small)).result, 'InvalidChunkSizeError', { Chunk: 2, BadChunkSize: 8191 });
    assert.equal(e.status, 403);
    assert.equal(e.message, 'Only the last chunk is allowed to have a size less than 8192 bytes');
  });

  test('a smaller minimum chunk size can be configured', async () => {
    const small = encodeChunked(split(DATA, 100), signerOf(SIGNED));
    const { result } = await decode({ ...SIGNED, minChunkSize: 1 }, small);
    assert.ok(Buffer.isBuffer(result) && result.equals(DATA));
  });

  test('trailing headers where none are allowed: MalformedTrailerError', async () => {
    const withTrailer = encodeChunked(split(DATA, 8192), signerOf(SIGNED), CRC);
    assertError((await decode(SIGNED, withTrailer)).result, 'MalformedTrailerError');
  });

  test('x-amz-trailer announced but no trailer sent: MalformedTrailerError', async () => {
    const { result } = await decode(SIGNED, body, { 'x-amz-trailer': 'x-amz-checksum-crc32' });
    assertError(result, 'MalformedTrailerError');
  });
});

describe('signed chunks with a signed trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', () => {
  const body = encodeChunked(split(DATA, 8192), signerOf(SIGNED_TRAILER), CRC);
  const headers = { 'x-amz-trailer': 'x-amz-checksum-crc32' };

  for (const cuts of [[1], [5], [100]]) {
    test(`decode data and trailers cut at ${cuts} bytes`, async () => {
      const { result, trailers } = await decode(SIGNED_TRAILER, body, headers, cuts);
      assert.ok(Buffer.isBuffer(result) && result.equals(DATA));
      assert.deepEqual(trailers, CRC);
    });
  }

  test('a bad trailer signature: SignatureDoesNotMatch on the TRAILER string to sign', async () => {
    const bad = Buffer.from(body.toString('latin1').replace(/x-amz-trailer-signature:./, 'x-amz-trailer-signature:Z'), 'latin1');
    const e = assertError((await decode(SIGNED_TRAILER, bad, headers)).result, 'SignatureDoesNotMatch');
    assert.match(String(e.fields.StringToSign), /^AWS4-HMAC-SHA256-TRAILER\n/);
  });

  test('a changed trailer value: SignatureDoesNotMatch', async () => {
    const bad = Buffer.from(body.toString('latin1').replace('AAAAAA==', 'AAAAAB=='), 'latin1');
    assertError((await decode(SIGNED_TRAILER, bad, headers)).result, 'SignatureDoesNotMatch');
  });

  test('no trailer signature: MalformedTrailerError', async () => {
    const bare = Buffer.from(body.toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), 'latin1');
    assertError((await decode(SIGNED_TRAILER, bare, headers)).result, 'MalformedTrailerError');
  });

  test('an x-amz-trailer that is not a checksum: InvalidRequest', async () => {
    const { result } = await decode(SIGNED_TRAILER, body, { 'x-amz-trailer': 'x-amz-checksum-sha10' });
    assertError(result, 'InvalidRequest');
  });
});

describe('unsigned chunks with a trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER)', () => {
  const body = encodeChunked(split(DATA, 8192), undefined, CRC);

  test('decode data and trailers, and tolerate a missing final empty line', async () => {
    const full = await decode(UNSIGNED_TRAILER, body, {}, [3]);
    assert.ok(Buffer.isBuffer(full.result) && full.result.equals(DATA));
    assert.deepEqual(full.trailers, CRC);
    const short = await decode(UNSIGNED_TRAILER, body.subarray(0, body.length - 2));
    assert.deepEqual(short.trailers, CRC);
  });

  test('no trailer at all', async () => {
    const { result, trailers } = await decode(UNSIGNED_TRAILER, encodeChunked(split(DATA, 8192)));
    assert.ok(Buffer.isBuffer(result) && result.equals(DATA));
    assert.deepEqual(trailers, {});
  });

  test('a chunk below 8192 bytes that is not the last one: InvalidChunkSizeError', async () => {
    const small = encodeChunked([DATA.subarray(0, 100), DATA.subarray(100)], undefined, CRC);
    assertError((await decode(UNSIGNED_TRAILER, small)).result, 'InvalidChunkSizeError', { Chunk: 2, BadChunkSize: 100 });
  });
});

describe('a broken aws-chunked body', () => {
  const body = encodeChunked(split(DATA, 8192), undefined, CRC);
  const cases: [string, Buffer, string, number?][] = [
    ['ends before the final chunk', body.subarray(0, body.lastIndexOf('0\r\n')), 'IncompleteBody'],
    ['ends inside a chunk', body.subarray(0, 5000), 'IncompleteBody'],
    ['ends inside a chunk header', body.subarray(0, 3), 'IncompleteBody'],
    ['is empty', Buffer.alloc(0), 'IncompleteBody'],
    ['declares less than x-amz-decoded-content-length', body, 'IncompleteBody', DATA.length + 1],
    ['declares more than x-amz-decoded-content-length', body, 'IncompleteBody', DATA.length - 1],
    ['has a size that is not hex', Buffer.from('zz\r\nabc\r\n0\r\n\r\n'), 'InvalidRequest'],
    ['has no CRLF after a chunk', Buffer.from(body.toString('latin1').replace(/\r\n2000\r\n/, 'XX2000\r\n'), 'latin1'), 'InvalidRequest'],
    ['has a bare LF after a chunk header', Buffer.from(body.toString('latin1').replace('2000\r\n', '2000\n'), 'latin1'), 'InvalidRequest'],
    ['has a header line without end', Buffer.alloc(100_000, 0x41), 'InvalidRequest'],
    ['has bytes after its end', Buffer.concat([body, Buffer.from('junk')]), 'InvalidRequest'],
    ['has a trailer line without a colon', Buffer.from(body.toString('latin1').replace('x-amz-checksum-crc32:', 'x-amz-checksum-crc32'), 'latin1'), 'MalformedTrailerError'],
    ['has a huge chunk size', Buffer.from('ffffffffffffffff\r\n'), 'IncompleteBody'],
  ];
  for (const [name, bytes, code, decodedLength] of cases) {
    test(`that ${name}: ${code}`, async () => {
      const auth = decodedLength === undefined ? UNSIGNED_TRAILER : { ...UNSIGNED_TRAILER, decodedContentLength: decodedLength };
      for (const cuts of [[bytes.length || 1], [1], [7]]) assertError((await decode(auth, bytes, {}, cuts)).result, code);
    });
  }

  test('random bytes always end in an S3Error, never a hang or a crash', async () => {
    for (let i = 0; i < 300; i++) {
      const noise = randomBytes(1 + (i % 50) * 7);
      if (i % 3 === 0) noise.write('10;chunk-signature=', 0); // a plausible start
      const { result } = await decode(i % 2 ? SIGNED : UNSIGNED_TRAILER, noise, {}, [1 + (i % 5)]);
      assert.ok(result instanceof S3Error, `noise ${noise.toString('hex')}`);
    }
  });

  test('a client that goes away mid-body: IncompleteBody', async () => {
    const raw = new PassThrough();
    const stream = decodeBody(raw, { ...UNSIGNED_TRAILER, decodedContentLength: DATA.length }, {});
    raw.write(body.subarray(0, 1000));
    setImmediate(() => raw.destroy(new Error('ECONNRESET')));
    assertError(await outcome(stream), 'IncompleteBody');
  });
});

describe('a plain body', () => {
  const data = randomBytes(100_000);
  const sha = authOf({ kind: 'sha256', expected: sha256Hex(data) });

  test('with its SHA-256 passes unchanged, in any pieces', async () => {
    for (const cuts of [[1000], [65536], [7, 1]]) {
      const out = await outcome(decodeBody(streamOf(data, cuts), sha, { 'content-length': String(data.length) }));
      assert.ok(Buffer.isBuffer(out) && out.equals(data));
    }
  });

  test('with the SHA-256 of other content: XAmzContentSHA256Mismatch with both hashes', async () => {
    const other = Buffer.from(data);
    other[5] ^= 1;
    const e = assertError(await outcome(decodeBody(streamOf(other), sha, {})), 'XAmzContentSHA256Mismatch', {
      ClientComputedContentSHA256: sha256Hex(data),
      S3ComputedContentSHA256: sha256Hex(other),
    });
    assert.equal(e.status, 400);
  });

  test('UNSIGNED-PAYLOAD passes anything; shorter than Content-Length is IncompleteBody', async () => {
    const unsigned = authOf({ kind: 'unsigned' });
    const out = await outcome(decodeBody(streamOf(data), unsigned, {}));
    assert.ok(Buffer.isBuffer(out) && out.equals(data));
    const short = await outcome(decodeBody(streamOf(data), unsigned, { 'content-length': String(data.length + 1) }));
    assertError(short, 'IncompleteBody');
  });

  test('a chunked payload without x-amz-decoded-content-length fails on the stream, not by a throw', async () => {
    const auth: AuthResult = { anonymous: false, payload: { kind: 'chunked-unsigned', trailer: true } };
    assertError(await outcome(decodeBody(Readable.from([Buffer.from('0\r\n\r\n')]), auth, {})), 'MissingContentLength');
  });
});

describe('decoding speed', () => {
  /** Feeds the same buffers many times without copying, as a socket would. */
  async function throughput(auth: AuthResult, chunkSize: number, packet: number, total: number, signed: boolean): Promise<number> {
    const chunks = split(randomBytes(total), chunkSize);
    const body = encodeChunked(chunks, signed ? signerOf(auth) : undefined, signed ? {} : CRC);
    const packets = split(body, packet);
    const started = process.hrtime.bigint();
    const out = decodeBody(Readable.from(packets), { ...auth, decodedContentLength: total }, {});
    let bytes = 0;
    for await (const piece of out) bytes += (piece as Buffer).length;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    assert.equal(bytes, total);
    return total / 2 ** 20 / seconds;
  }

  for (const chunk of [64 << 10, 1 << 20]) {
    test(`unsigned ${chunk >> 10} KiB chunks in 64 KiB packets`, async (t) => {
      const rate = await throughput(UNSIGNED_TRAILER, chunk, 64 << 10, 256 << 20, false);
      t.diagnostic(`${rate.toFixed(0)} MiB/s`);
    });
  }
  test('signed 1 MiB chunks in 64 KiB packets (bounded by SHA-256)', async (t) => {
    const rate = await throughput(SIGNED, 1 << 20, 64 << 10, 128 << 20, true);
    t.diagnostic(`${rate.toFixed(0)} MiB/s`);
  });
});
