/**
 * `Expect: 100-continue`: a client that asks before sending its body gets
 * `100 Continue` only once the request is authenticated, authorized and its
 * handler is about to read the body; a request refused before that gets its
 * final answer straight away (403, 404, ...) and never sends the body, as on
 * AWS, and the connection is closed after it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bucketName, liveServer } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { signRequest } from './raw-signed.js';

/** Sends a request head, waits for the first answer (up to 1 s), and sends the body only if it was 100 Continue. */
async function exchange(server: RunningServer, head: string, body: Buffer): Promise<{ first: string; all: string; closed: boolean }> {
  const url = new URL(server.url);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((ok, fail) => socket.once('connect', () => ok()).once('error', fail));
  let text = '';
  let closed = false;
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  socket.write(head);
  const until = async (cond: () => boolean, ms: number) => {
    for (let t = 0; t < ms && !cond(); t += 10) await new Promise((ok) => setTimeout(ok, 10));
  };
  await until(() => text.includes('\r\n\r\n'), 1000);
  const first = text;
  if (first.startsWith('HTTP/1.1 100')) {
    socket.write(body);
    await until(() => /\r\n\r\n[\s\S]*HTTP\/1\.1 [2-5]\d\d[\s\S]*\r\n\r\n/.test(text), 2000);
  }
  await until(() => closed, 300);
  socket.destroy();
  return { first, all: text, closed };
}

async function putHead(server: RunningServer, path: string, body: Buffer, opts: { secret?: string } = {}): Promise<string> {
  const signed = await signRequest(server, {
    method: 'PUT', path, payloadHash: 'UNSIGNED-PAYLOAD', secretAccessKey: opts.secret,
    headers: { 'content-length': String(body.length), expect: '100-continue' },
  });
  return `PUT ${signed.path} HTTP/1.1\r\n${Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
}

describe('Expect: 100-continue', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('continue');
  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => close?.());

  it('an accepted PUT gets 100 Continue, then stores the body and answers 200', async () => {
    const body = Buffer.from('continued body');
    const r = await exchange(server, await putHead(server, `/${Bucket}/ok`, body), body);
    assert.match(r.first, /^HTTP\/1\.1 100 Continue\r\n/);
    assert.match(r.all, /HTTP\/1\.1 200 OK/);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'ok' }));
    assert.equal(await got.Body!.transformToString(), 'continued body');
  });

  it('a PUT into a bucket that does not exist gets 404 NoSuchBucket at once, no 100 Continue, and the connection closes', async () => {
    const body = Buffer.alloc(1000, 1);
    const r = await exchange(server, await putHead(server, `/${bucketName('missing')}/k`, body), body);
    assert.match(r.first, /^HTTP\/1\.1 404 /);
    assert.match(r.first, /<Code>NoSuchBucket<\/Code>/);
    assert.doesNotMatch(r.all, /100 Continue/);
    assert.ok(r.closed, 'the connection is closed');
  });

  it('a PUT with a bad signature gets 403 SignatureDoesNotMatch at once, no 100 Continue', async () => {
    const body = Buffer.alloc(1000, 2);
    const r = await exchange(server, await putHead(server, `/${Bucket}/bad`, body, { secret: 'not-the-secret' }), body);
    assert.match(r.first, /^HTTP\/1\.1 403 /);
    assert.match(r.first, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.doesNotMatch(r.all, /100 Continue/);
  });

  it('the SDK, which sends Expect: 100-continue for large bodies, uploads as before', async () => {
    const data = Buffer.alloc(3 << 20, 7);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'sdk', Body: data }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'sdk' }));
    assert.equal((await got.Body!.transformToByteArray()).length, data.length);
  });
});
