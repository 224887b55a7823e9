/**
 * SigV4 against published vectors: the AWS SigV4 test suite (canonical
 * request, string to sign, signature) and the worked examples of the S3
 * documentation, including the chunked uploads.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  authenticate,
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  decodeBody,
  deriveSigningKey,
  parseQuery,
  stringToSign,
  type AuthRequest,
} from '../../src/auth/index.js';
import {
  collect,
  DOC_CREDENTIALS,
  DOC_DATE,
  DOC_NOW,
  EMPTY_SHA256,
  lookupOf,
  sha256Hex,
  streamOf,
} from './fixtures/sigv4/helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'sigv4');

interface Vector {
  name: string;
  normalize: boolean;
  req: string;
  creq: string;
  sts: string;
  authz: string;
}

function vectors(dir = FIXTURES, normalize = false): Vector[] {
  const out: Vector[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!statSync(path).isDirectory()) continue;
    if (name === 'normalize-path') {
      out.push(...vectors(path, true));
      continue;
    }
    const read = (ext: string) => readFileSync(join(path, `${name}.${ext}`), 'utf8');
    out.push({ name, normalize, req: read('req'), creq: read('creq'), sts: read('sts'), authz: read('authz') });
  }
  return out;
}

/** Parses a suite .req file into what node would hand the server. */
function parseReq(text: string): { method: string; path: string; query: string; rawHeaders: string[]; headers: Record<string, string>; body: string } {
  const blank = text.indexOf('\n\n');
  const head = blank < 0 ? text : text.slice(0, blank);
  const body = blank < 0 ? '' : text.slice(blank + 2);
  const [requestLine, ...lines] = head.split('\n');
  const m = /^(\S+) (.*) HTTP\/1\.1$/.exec(requestLine!)!;
  const target = m[2]!;
  const q = target.indexOf('?');
  const rawHeaders: string[] = [];
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    rawHeaders.push(name, value);
    const lower = name.toLowerCase();
    headers[lower] = lower in headers ? `${headers[lower]}, ${value}` : value;
  }
  return { method: m[1]!, path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q + 1), rawHeaders, headers, body };
}

describe('the AWS SigV4 test suite', () => {
  const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  const all = vectors();
  test('has the vectors on disk', () => assert.ok(all.length >= 20, `found ${all.length}`));

  for (const v of all) {
    test(`${v.name}: canonical request, string to sign and signature`, () => {
      assert.equal(sha256Hex(v.creq), v.sts.split('\n')[3], 'the fixture is self-consistent');
      const r = parseReq(v.req);
      const signed = /SignedHeaders=([^,]+)/.exec(v.authz)![1]!.split(';');
      const creq = canonicalRequest(
        r.method,
        canonicalUri(r.path, v.normalize),
        canonicalQuery(parseQuery(r.query)),
        canonicalHeaders(signed, r.headers, r.rawHeaders),
        signed.join(';'),
        sha256Hex(r.body),
      );
      assert.equal(creq, v.creq);
      const sts = stringToSign('20150830T123600Z', '20150830/us-east-1/service/aws4_request', creq);
      assert.equal(sts, v.sts);
      const key = deriveSigningKey(SECRET, '20150830', 'us-east-1', 'service');
      const signature = createHmac('sha256', key).update(sts).digest('hex');
      assert.equal(signature, /Signature=(\w+)/.exec(v.authz)![1]);
    });
  }
});

describe('the examples of the S3 SigV4 documentation', () => {
  const lookup = lookupOf(DOC_CREDENTIALS);
  const HOST = 'examplebucket.s3.amazonaws.com';
  const request = (
    method: string,
    target: string,
    headers: Record<string, string>,
    signed: string,
    signature: string,
  ): AuthRequest => {
    const q = target.indexOf('?');
    const authorization = `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signed},Signature=${signature}`;
    return {
      method,
      rawPath: q < 0 ? target : target.slice(0, q),
      rawQuery: q < 0 ? '' : target.slice(q + 1),
      headers: { host: HOST, 'x-amz-date': DOC_DATE, 'x-amz-content-sha256': EMPTY_SHA256, authorization, ...headers },
    };
  };
  const BASIC = 'host;x-amz-content-sha256;x-amz-date';

  test('GET Object with a Range header', async () => {
    const req = request('GET', '/test.txt', { range: 'bytes=0-9' }, 'host;range;x-amz-content-sha256;x-amz-date',
      'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
    const auth = await authenticate(req, lookup, { now: DOC_NOW });
    assert.equal(auth.anonymous, false);
    assert.equal(auth.credentials?.accountId, '111122223333');
    assert.deepEqual(auth.payload, { kind: 'sha256', expected: EMPTY_SHA256 });
  });

  test('PUT Object: a key with $ and a Date header, the body checked against its SHA-256', async () => {
    const content = 'Welcome to Amazon S3.';
    const req = request('PUT', '/test%24file.text', {
      date: 'Fri, 24 May 2013 00:00:00 GMT',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
      'content-length': String(content.length),
    }, 'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
    '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd');
    const auth = await authenticate(req, lookup, { now: DOC_NOW });
    const body = decodeBody(streamOf(Buffer.from(content), [5]), auth, req.headers);
    assert.equal((await collect(body)).toString(), content);
  });

  test('GET Bucket lifecycle: a sub-resource without a value', async () => {
    const req = request('GET', '/?lifecycle', {}, BASIC, 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
    assert.equal((await authenticate(req, lookup, { now: DOC_NOW })).anonymous, false);
  });

  test('GET Bucket (List Objects) with parameters out of order', async () => {
    const req = request('GET', '/?max-keys=2&prefix=J', {}, BASIC, '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
    assert.equal((await authenticate(req, lookup, { now: DOC_NOW })).anonymous, false);
  });

  test('a presigned GET Object URL', async () => {
    const req: AuthRequest = {
      method: 'GET',
      rawPath: '/test.txt',
      rawQuery:
        'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
      headers: { host: HOST },
    };
    const auth = await authenticate(req, lookup, { now: new Date(DOC_NOW.getTime() + 3600_000) });
    assert.equal(auth.method, 'presigned');
    assert.deepEqual(auth.payload, { kind: 'unsigned' });
  });

  const A = Buffer.alloc(66560, 'a');
  const CHUNKED = {
    host: 's3.amazonaws.com',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
  };
  const chunks = (signatures: string[], ...trailers: string[]) => {
    const [first, second, last] = signatures.map((s) => ';chunk-signature=' + s);
    const parts = [`10000${first}\r\n${A.toString('latin1', 0, 65536)}`, `400${second}\r\n${A.toString('latin1', 0, 1024)}`, '0' + last];
    return Buffer.from([...parts, ...trailers, '', ''].join('\r\n'), 'latin1');
  };

  test('PUT Object in signed chunks (seed 4f232c43...)', async () => {
    const body = chunks([
      'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
      '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
      'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
    ]);
    assert.equal(body.length, 66824);
    const req = request('PUT', '/examplebucket/chunkObject.txt', {
      ...CHUNKED,
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'content-length': '66824',
    }, 'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
    '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');
    const auth = await authenticate(req, lookup, { now: DOC_NOW });
    assert.deepEqual(auth.payload, { kind: 'chunked-signed', trailer: false });
    assert.equal(auth.decodedContentLength, 66560);
    for (const cuts of [[body.length], [1], [7, 3, 1000], [65536 + 90]]) {
      const decoded = await collect(decodeBody(streamOf(body, cuts), auth, req.headers));
      assert.ok(decoded.equals(A), `cut at ${cuts}`);
    }
  });

  test('PUT Object in signed chunks with a signed trailer (seed 106e2a8a...)', async () => {
    const body = chunks([
      'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
      '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
      '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
    ], 'x-amz-checksum-crc32c:sOO8/Q==', 'x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435');
    const req = request('PUT', '/examplebucket/chunkObject.txt', {
      ...CHUNKED,
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      'x-amz-trailer': 'x-amz-checksum-crc32c',
    }, 'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer',
    '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e');
    const auth = await authenticate(req, lookup, { now: DOC_NOW });
    assert.deepEqual(auth.payload, { kind: 'chunked-signed', trailer: true });
    const decoded = decodeBody(streamOf(body, [4096]), auth, req.headers);
    assert.ok((await collect(decoded)).equals(A));
    assert.deepEqual(decoded.trailers, { 'x-amz-checksum-crc32c': 'sOO8/Q==' });
  });
});
