import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { errorCode, raw, rawSocket, signRequest, xmlField } from './raw-signed.js';

/** Blob files on disk under the server's data directory. */
function blobFiles(server: RunningServer): string[] {
  const dir = join(server.dataDir, 'blobs');
  return readdirSync(dir).flatMap((sub) => readdirSync(join(dir, sub)));
}

/** The request head of a signed PUT with UNSIGNED-PAYLOAD, as raw text. */
async function putHead(server: RunningServer, path: string, contentLength: number, extra: Record<string, string> = {}): Promise<string> {
  const signed = await signRequest(server, { method: 'PUT', path, payloadHash: 'UNSIGNED-PAYLOAD', headers: { 'content-length': String(contentLength), ...extra } });
  return `PUT ${signed.path} HTTP/1.1\r\n${Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
}

/** Asserts an `<Error>` document with Code, Message, Resource and a RequestId equal to the x-amz-request-id header. */
function assertErrorDocument(r: { headers: Record<string, unknown>; body: string }, code: string): void {
  assert.equal(errorCode(r.body), code);
  assert.ok(xmlField(r.body, 'Message'));
  assert.ok(r.headers['x-amz-request-id'], 'x-amz-request-id');
  assert.equal(xmlField(r.body, 'RequestId'), r.headers['x-amz-request-id']);
}

describe('robustness: bad input gets an S3 error, never a 500 or a hang', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const bucket = bucketName('rob');
  before(async () => {
    ({ s3, server, close } = await liveServer({ requestTimeoutMs: 1500 }));
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(() => close());

  it('malformed XML is MalformedXML with Code, Message, Resource and RequestId', async () => {
    const r = await raw(server, { method: 'PUT', path: `/${bucket}`, query: { tagging: '' }, body: '<Tagging><TagSet><Tag>' });
    assert.equal(r.status, 400);
    assertErrorDocument(r, 'MalformedXML');
    assert.equal(xmlField(r.body, 'Resource'), `/${bucket}`);
  });

  it('a recognised but unimplemented operation is 501 NotImplemented naming it', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
    const r = await raw(server, { method: 'GET', path: `/${bucket}/k`, query: { torrent: '' } });
    assert.equal(r.status, 501);
    assertErrorDocument(r, 'NotImplemented');
    assert.match(xmlField(r.body, 'Message') ?? '', /GetObjectTorrent/);
  });

  it('an unknown method is 405 MethodNotAllowed with the method and resource type', async () => {
    const r = await raw(server, { method: 'PATCH', path: `/${bucket}/k` });
    assert.equal(r.status, 405);
    assertErrorDocument(r, 'MethodNotAllowed');
    assert.equal(xmlField(r.body, 'Method'), 'PATCH');
    assert.equal(xmlField(r.body, 'ResourceType'), 'OBJECT');
  });

  it('CONNECT is answered 405 MethodNotAllowed with the error document, then the connection closed', async () => {
    const { answer } = await rawSocket(server, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    const text = await answer();
    const [head, body] = text.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 405 /);
    assert.match(head, /\r\ncontent-type: application\/xml\r\n/i);
    assert.equal(Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]), Buffer.byteLength(body));
    const headers = { 'x-amz-request-id': /\r\nx-amz-request-id: (\w+)/i.exec(head)?.[1] };
    assertErrorDocument({ headers, body }, 'MethodNotAllowed');
    assert.equal(xmlField(body, 'Method'), 'CONNECT');
    assert.match(head, /\r\nx-amz-id-2: \S+/i);
  });

  it('a path that is not valid percent-encoding is 400 InvalidURI', async () => {
    const r = await raw(server, { method: 'GET', path: `/${bucket}/%E0%A4%A`, unsigned: true });
    assert.equal(r.status, 400);
    assertErrorDocument(r, 'InvalidURI');
  });

  it('PutObject without Content-Length or chunked framing is 411 MissingContentLength', async () => {
    const signed = await signRequest(server, { method: 'PUT', path: `/${bucket}/nolen`, payloadHash: 'UNSIGNED-PAYLOAD' });
    const head = `PUT ${signed.path} HTTP/1.1\r\n${Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\nconnection: close\r\n\r\n`;
    const { socket, answer } = await rawSocket(server, head);
    const text = await Promise.race([answer(), new Promise<string>((ok) => setTimeout(() => { socket.destroy(); ok('timeout'); }, 3000))]);
    assert.match(text, /^HTTP\/1.1 411/);
    assert.match(text, /<Code>MissingContentLength<\/Code>/);
  });

  /** Blob files of objects that must stay (one stored before the failures). */
  const known = new Set<string>();
  before(async () => {
    const big = Buffer.alloc(200_000, 'k');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept-big', Body: big }));
    for (const f of blobFiles(server)) known.add(f);
  });

  for (const [label, size] of [['inline', 1000], ['blob file', 300_000]] as const) {
    it(`PutObject whose client sends fewer bytes than Content-Length and ends (${label}) stores nothing and leaves no blob`, async () => {
      const key = `short-${size}`;
      const { socket, answer } = await rawSocket(server, await putHead(server, `/${bucket}/${key}`, size));
      socket.write(Buffer.alloc(Math.floor(size / 2), 'a'));
      socket.end();
      const text = await answer();
      assert.match(text, /^HTTP\/1.1 400 /);
      assert.match(text, /<Code>IncompleteBody<\/Code>/);
      assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).status, 404);
      await server.jobs.runNow({ graceMs: 0 });
      assert.deepEqual(blobFiles(server).filter((f) => !known.has(f)), []);
    });

    it(`PutObject whose client sends a few bytes with its head and half-closes at once (${label}): IncompleteBody, the server unharmed`, async () => {
      const key = `early-${size}`;
      const { socket, answer } = await rawSocket(server, await putHead(server, `/${bucket}/${key}`, size));
      socket.end(Buffer.alloc(10, 'e'));
      assert.match(await answer(), /<Code>IncompleteBody<\/Code>/);
      assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).status, 404);
    });

    it(`PutObject whose client disconnects mid-upload (${label}) stores nothing and leaves no blob`, async () => {
      const key = `cut-${size}`;
      const { socket } = await rawSocket(server, await putHead(server, `/${bucket}/${key}`, size));
      socket.write(Buffer.alloc(Math.floor(size / 2), 'b'));
      await new Promise((ok) => setTimeout(ok, 100));
      socket.destroy();
      await new Promise((ok) => setTimeout(ok, 200));
      assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).status, 404);
      await server.jobs.runNow({ graceMs: 0 });
      assert.deepEqual(blobFiles(server).filter((f) => !known.has(f)), []);
    });
  }

  it('an aws-chunked body shorter or longer than x-amz-decoded-content-length is refused and stores nothing', async () => {
    const data = 'hello chunked';
    for (const [key, declared] of [['dec-short', data.length + 5], ['dec-long', data.length - 5]] as const) {
      const body = `${data.length.toString(16)}\r\n${data}\r\n0\r\n\r\n`;
      const r = await raw(server, {
        method: 'PUT', path: `/${bucket}/${key}`, body, payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(declared) },
      });
      assert.equal(r.status, 400, r.body);
      assert.ok(errorCode(r.body), 'an error document');
      assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).status, 404);
    }
  });

  it('oversized request headers are refused with an S3 error and a request id', async () => {
    const head = `GET /${bucket}/k HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`;
    const { answer } = await rawSocket(server, head);
    const text = await answer();
    assert.match(text, /^HTTP\/1.1 400/);
    assert.match(text, /x-amz-request-id: [0-9A-F]+/i);
    assert.match(text, /<Code>RequestHeaderSectionTooLarge<\/Code>/);
  });

  it('a request line that does not parse is 400 with an S3 error', async () => {
    const { answer } = await rawSocket(server, 'THIS IS NOT HTTP\r\n\r\n');
    const text = await answer();
    assert.match(text, /^HTTP\/1.1 400/);
    assert.match(text, /<Error><Code>BadRequest<\/Code>/);
  });

  it('a body that stalls past requestTimeoutMs is answered RequestTimeout, the connection closed, nothing stored', async () => {
    const { socket, answer } = await rawSocket(server, await putHead(server, `/${bucket}/stalled`, 1000));
    socket.write('only a few bytes');
    const text = await Promise.race([answer(), new Promise<string>((ok) => setTimeout(() => { socket.destroy(); ok('no answer'); }, 10_000))]);
    assert.match(text, /^HTTP\/1.1 400/);
    assert.match(text, /<Code>RequestTimeout<\/Code>/);
    assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'stalled' })))).status, 404);
  });

  it('the server still answers normally after all of the above', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'after', Body: 'fine' }));
    const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'after' }));
    assert.equal(await g.Body!.transformToString(), 'fine');
    assert.ok(g.$metadata.requestId);
  });

  it('every answer carries x-amz-request-id and x-amz-id-2, success or error', async () => {
    for (const r of [
      await raw(server, { method: 'GET', path: '/' }),
      await raw(server, { method: 'HEAD', path: `/${bucket}/missing` }),
      await raw(server, { method: 'GET', path: `/${bucket}/k` }),
      await raw(server, { method: 'GET', path: `/${bucketName('nob')}/k` }),
    ]) {
      assert.match(String(r.headers['x-amz-request-id']), /^[0-9A-F]{16}$/);
      assert.ok(r.headers['x-amz-id-2']);
    }
  });
});
