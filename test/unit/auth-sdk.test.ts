/**
 * Requests as the AWS SDK for JavaScript signs and sends them: first the
 * SDK's signer (@smithy/signature-v4, configured as the S3 client configures
 * it) on awkward keys and query strings, then the real S3Client, in its
 * default configuration (default checksums, aws-chunked trailers for streams),
 * against a small HTTP server that runs authenticate() and decodeBody().
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildQueryString, escapeUri, escapeUriPath } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { createAuthenticator, type AuthRequest, type AuthResult } from '../../src/auth/index.js';
import { isS3Error } from '../../src/errors.js';
import { collect, DOC_CREDENTIALS, lookupOf, NodeSha256, wireRequest } from './fixtures/sigv4/helpers.js';

const HOST = 'tessera.localhost:9000';
const lookup = lookupOf(DOC_CREDENTIALS);
const auth = createAuthenticator(lookup);
const signer = new SignatureV4({
  credentials: DOC_CREDENTIALS,
  region: 'us-east-1',
  service: 's3',
  sha256: NodeSha256,
  uriEscapePath: false,
});

/** Keys that clients encode differently, and that a wrong canonical form would break. */
const KEYS = [
  'plain.txt', 'a b', 'a+b', '100%', '100%25', 'ü/中/日本語', "!*'()", 'a~b', 'a=b&c', 'a:b@c$d,e;f', 'a//b', '/leading',
  'trailing/', 'a?b#c', '../x/./y', '😀 emoji', 'tab\tnewline\n', '%2F', 'x'.repeat(300),
];
const QUERIES: Record<string, string | string[]>[] = [
  {},
  { uploads: '' },
  { prefix: 'a/b c', delimiter: '/', 'list-type': '2' },
  { prefix: '', 'continuation-token': 'a+b/c=d==', 'start-after': 'ü' },
  { 'response-content-disposition': 'attachment; filename="a b.txt"', 'response-content-type': 'text/plain; charset=utf-8' },
  { tagging: '', versionId: 'null' },
  { a: ['2', '1', ''], A: '3' },
  { '': 'x', 'key with space': 'v?&=' },
];

const s3Path = (bucket: string, key: string) => `/${bucket}/${escapeUriPath(key)}`;

describe('the SDK signer', () => {
  for (const key of KEYS) {
    for (const [i, query] of QUERIES.entries()) {
      test(`header-signed GET of ${JSON.stringify(key).slice(0, 40)} with query #${i}`, async () => {
        const signed = await signer.sign(
          { method: 'GET', protocol: 'http:', hostname: 'tessera.localhost', port: 9000, path: s3Path('bucket', key), query, headers: { host: HOST } },
          { signingDate: new Date() },
        );
        const result = await auth.authenticate(wireRequest(signed as never, buildQueryString));
        assert.equal(result.credentials?.accessKeyId, DOC_CREDENTIALS.accessKeyId);
      });
    }
    test(`presigned PUT of ${JSON.stringify(key).slice(0, 40)}`, async () => {
      const presigned = await signer.presign(
        {
          method: 'PUT', protocol: 'http:', hostname: 'tessera.localhost', port: 9000, path: s3Path('bucket', key),
          query: { 'x-id': 'PutObject' }, headers: { host: HOST, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-meta-k': 'v w' },
        },
        { signingDate: new Date(), expiresIn: 900 },
      );
      const result = await auth.authenticate(wireRequest(presigned as never, buildQueryString));
      assert.equal(result.method, 'presigned');
    });
  }

  test('a path sent less encoded than the client signed it still verifies (S3 re-encodes)', async () => {
    const signed = await signer.sign(
      { method: 'GET', protocol: 'http:', hostname: 'tessera.localhost', port: 9000, path: '/b/a%2Bb%21~%C3%BC', query: { q: 'a+b c' }, headers: { host: HOST } },
      { signingDate: new Date() },
    );
    const wire = wireRequest(signed as never, buildQueryString);
    for (const [rawPath, rawQuery] of [['/b/a+b!~%C3%BC', 'q=a%2Bb+c'], ['/b/a%2bb%21%7e%c3%bc', 'q=a%2bb%20c'], ['/b/a+b%21~ü', 'q=a%2Bb c']]) {
      const result = await auth.authenticate({ ...wire, rawPath: rawPath!, rawQuery: rawQuery! });
      assert.equal(result.anonymous, false, `${rawPath}?${rawQuery}`);
    }
    // ...but a literal '+' in the query is a space, as S3 reads it, not the '+' the client signed.
    await assert.rejects(auth.authenticate({ ...wire, rawQuery: 'q=a+b+c' }), { code: 'SignatureDoesNotMatch' });
  });

  test('encodes the path segments with the SDK escapeUri', () => {
    assert.equal(escapeUri("!'()*"), '%21%27%28%29%2A');
  });
});

describe('the S3 client against authenticate() and decodeBody()', () => {
  let server: Server;
  let client: S3Client;
  let endpoint: string;
  const seen: { auth: AuthResult; body: Buffer; trailers: Record<string, string>; headers: IncomingMessage['headers'] }[] = [];

  before(async () => {
    server = createServer(async (req, res) => {
      const url = req.url!;
      const q = url.indexOf('?');
      const request: AuthRequest = {
        method: req.method!,
        rawPath: q < 0 ? url : url.slice(0, q),
        rawQuery: q < 0 ? '' : url.slice(q + 1),
        headers: req.headers,
        rawHeaders: req.rawHeaders,
      };
      try {
        const result = await auth.authenticate(request);
        const decoded = auth.decodeBody(req, result, req.headers);
        const body = await collect(decoded);
        seen.push({ auth: result, body, trailers: decoded.trailers, headers: req.headers });
        res.writeHead(200, { etag: '"0"', 'content-length': req.method === 'GET' ? body.length : 0 });
        res.end(req.method === 'GET' ? body : undefined);
      } catch (e) {
        const code = isS3Error(e) ? e.code : 'InternalError';
        const status = isS3Error(e) ? e.status : 500;
        res.writeHead(status, { 'content-type': 'application/xml', connection: 'close' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${isS3Error(e) ? e.message : String(e)}</Message></Error>`);
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    endpoint = `http://127.0.0.1:${port}`;
    client = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: DOC_CREDENTIALS,
    });
  });
  after(async () => {
    client.destroy();
    server.close();
    server.closeAllConnections();
  });

  test('PutObject with a Buffer body, for every awkward key', async () => {
    for (const key of KEYS.filter((k) => !k.startsWith('/') && !k.includes('../'))) {
      const body = Buffer.from(`content of ${key}`);
      await client.send(new PutObjectCommand({ Bucket: 'bucket', Key: key, Body: body, Metadata: { 'm-a': 'x y' } }));
      const last = seen.at(-1)!;
      assert.ok(last.body.equals(body), key);
      assert.equal(last.auth.payload.kind, 'sha256');
    }
  });

  test('PutObject with a stream: aws-chunked with a CRC32 trailer, decoded and matching', async () => {
    const data = Buffer.alloc(3 * 65536 + 1234, 7);
    const stream = Readable.from([data.subarray(0, 65536), data.subarray(65536, 3 * 65536), data.subarray(3 * 65536)]);
    await client.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'streamed', Body: stream, ContentLength: data.length }));
    const last = seen.at(-1)!;
    assert.ok(last.body.equals(data));
    assert.deepEqual(last.auth.payload, { kind: 'chunked-unsigned', trailer: true });
    assert.equal(last.headers['content-encoding'], 'aws-chunked');
    const expected = Buffer.alloc(4);
    expected.writeUInt32BE(crc32(data));
    assert.deepEqual(last.trailers, { 'x-amz-checksum-crc32': expected.toString('base64') });
  });

  test('GetObject and DeleteObject with query strings', async () => {
    const got = await client.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'a b/ü', ResponseContentType: 'text/plain; x=1', VersionId: 'null' }));
    await got.Body?.transformToByteArray();
    await client.send(new DeleteObjectCommand({ Bucket: 'bucket', Key: "!*'()" }));
    assert.equal(seen.at(-1)!.auth.method, 'header');
  });

  test('a client with the wrong secret gets SignatureDoesNotMatch', async () => {
    const wrong = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { ...DOC_CREDENTIALS, secretAccessKey: 'nope' } });
    await assert.rejects(wrong.send(new DeleteObjectCommand({ Bucket: 'bucket', Key: 'k' })), { name: 'SignatureDoesNotMatch' });
    wrong.destroy();
  });
});
