/**
 * CompleteMultipartUpload and other XML bodies far over what a legal request
 * can be: refused by size while they stream in (MaxMessageLengthExceeded),
 * a list of more than 10,000 parts refused as MalformedXML, each without
 * stalling the event loop or growing the server's memory (the server runs
 * in this process, so its RSS is process.memoryUsage().rss).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer } from '../helpers.js';
import { errorCode, sha256Hex, signRequest, xmlField, type RawResponse } from './raw-signed.js';
import type { RunningServer } from '../../src/index.js';
import { MAX_COMPLETE_BODY } from '../../src/api/multipart/complete-body.js';

const MIB = 1024 * 1024;
/** What the server may keep of a batch of refused bodies: a few tens of MB (the old parse kept 100-600 MB). */
const RSS_SLACK = 48 * MIB;
/** The longest the event loop may stall while they are refused (the old parse: 1.2 s for each 8 MiB body). */
const MAX_STALL_MS = 250;

const ETAG = '"0123456789abcdef0123456789abcdef"';

function completeBody(parts: number): Buffer {
  const out: string[] = ['<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'];
  for (let i = 1; i <= parts; i++) out.push(`<Part><PartNumber>${i}</PartNumber><ETag>${ETAG}</ETag></Part>`);
  out.push('</CompleteMultipartUpload>');
  return Buffer.from(out.join(''));
}

interface Sent extends RawResponse {
  ms: number;
}

/** A signed POST whose payload hash is computed once by the caller, so signing costs nothing here. */
async function post(server: RunningServer, path: string, query: Record<string, string>, body: Buffer, hash: string, headers: Record<string, string> = {}): Promise<Sent> {
  const signed = await signRequest(server, { method: 'POST', path, query, body: '', payloadHash: hash, headers });
  const url = new URL(server.url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path: signed.path, headers: signed.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      res.on('error', reject);
    });
    // The server may answer and stop reading before the body is all sent.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(body);
  });
}

/** Runs `work` and reports the RSS it added and the longest stall of the event loop meanwhile. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; rssGrowth: number; stallMs: number }> {
  const before = process.memoryUsage().rss;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const result = await work();
  loop.disable();
  await new Promise((ok) => setTimeout(ok, 50));
  return { result, rssGrowth: process.memoryUsage().rss - before, stallMs: loop.max / 1e6 };
}

/** Reads one HTTP answer (head and Content-Length body) from a raw socket, without waiting for the socket to close. */
function oneAnswer(socket: Socket, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms; got ${JSON.stringify(text.slice(0, 200))}`)), timeoutMs);
    socket.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (Buffer.byteLength(text) - end - 4 >= length) {
        clearTimeout(timer);
        resolve(text);
      }
    });
    socket.on('error', () => undefined);
  });
}

describe('CompleteMultipartUpload limits', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('mpl');
  let UploadId: string;
  const complete = (body: Buffer, hash = sha256Hex(body), headers: Record<string, string> = {}) =>
    post(server, `/${Bucket}/big`, { uploadId: UploadId }, body, hash, headers);

  before(async () => {
    ({ s3, server, close } = await liveServer({ minPartSize: 1 }));
    await s3.send(new CreateBucketCommand({ Bucket }));
    UploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'big' }))).UploadId!;
    // Warm the paths measured below, so that what they add is what the requests keep.
    await complete(completeBody(3));
    await complete(completeBody(20_000));
  });
  after(() => close());

  it('the bound holds a legal 10,000-part body with a checksum per part, and little more', () => {
    assert.ok(MAX_COMPLETE_BODY >= 10_000 * 200 && MAX_COMPLETE_BODY <= 4 * MIB, String(MAX_COMPLETE_BODY));
  });

  it('an 8 MiB body of 90,000 parts is 400 MaxMessageLengthExceeded, fast, and the server keeps no memory of it; four at once too', async (t) => {
    const body = completeBody(90_000);
    assert.ok(body.length > 7.5 * MIB && body.length < 8 * MIB, String(body.length));
    const hash = sha256Hex(body);
    const { result, rssGrowth, stallMs } = await measured(async () => {
      const one = await complete(body, hash);
      const four = await Promise.all([1, 2, 3, 4].map(() => complete(body, hash)));
      return [one, ...four];
    });
    for (const r of result) {
      assert.equal(r.status, 400);
      assert.equal(errorCode(r.body), 'MaxMessageLengthExceeded', r.body);
      assert.equal(xmlField(r.body, 'Message'), 'Your request was too big.');
      assert.ok(r.ms < 2000, `${r.ms} ms`);
    }
    t.diagnostic(`event loop stalled at most ${stallMs.toFixed(0)} ms; RSS grew ${(rssGrowth / MIB).toFixed(1)} MiB`);
    assert.ok(stallMs < MAX_STALL_MS, `event loop stalled ${stallMs.toFixed(0)} ms`);
    assert.ok(rssGrowth < RSS_SLACK, `RSS grew ${(rssGrowth / MIB).toFixed(0)} MiB`);
  });

  it('the same bodies without a declared length are refused as soon as the bound is read past', async (t) => {
    const body = completeBody(90_000);
    const hash = sha256Hex(body);
    const { result, rssGrowth, stallMs } = await measured(() => Promise.all([1, 2, 3, 4].map(() => complete(body, hash, { 'transfer-encoding': 'chunked' }))));
    for (const r of result) assert.equal(errorCode(r.body), 'MaxMessageLengthExceeded', r.body);
    t.diagnostic(`event loop stalled at most ${stallMs.toFixed(0)} ms; RSS grew ${(rssGrowth / MIB).toFixed(1)} MiB`);
    assert.ok(stallMs < MAX_STALL_MS, `event loop stalled ${stallMs.toFixed(0)} ms`);
    assert.ok(rssGrowth < RSS_SLACK, `RSS grew ${(rssGrowth / MIB).toFixed(0)} MiB`);
  });

  it('10,001 parts is 400 MalformedXML; ten 20,000-part bodies (under the bound) are too, without growing the server', async (t) => {
    const r = await complete(completeBody(10_001));
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'MalformedXML', r.body);
    const body = completeBody(20_000);
    assert.ok(body.length < MAX_COMPLETE_BODY);
    const hash = sha256Hex(body);
    const { result, rssGrowth, stallMs } = await measured(() => Promise.all(Array.from({ length: 10 }, () => complete(body, hash))));
    for (const x of result) assert.equal(errorCode(x.body), 'MalformedXML', x.body);
    t.diagnostic(`event loop stalled at most ${stallMs.toFixed(0)} ms; RSS grew ${(rssGrowth / MIB).toFixed(1)} MiB`);
    assert.ok(stallMs < MAX_STALL_MS, `event loop stalled ${stallMs.toFixed(0)} ms`);
    assert.ok(rssGrowth < RSS_SLACK, `RSS grew ${(rssGrowth / MIB).toFixed(0)} MiB`);
  });

  it('10,000 parts are read to the part check: InvalidPart for the first part not uploaded', async () => {
    const r = await complete(completeBody(10_000));
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'InvalidPart', r.body);
    assert.equal(xmlField(r.body, 'PartNumber'), '1');
    assert.ok(r.ms < 1000, `${r.ms} ms`);
  });

  it('a legal Complete still works', async () => {
    const Key = 'legal';
    const id = (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }))).UploadId!;
    const Parts = [];
    for (const [i, text] of ['first ', 'second'].entries()) {
      const { ETag } = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId: id, PartNumber: i + 1, Body: text }));
      Parts.push({ PartNumber: i + 1, ETag });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: id, MultipartUpload: { Parts } }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    assert.equal(await got.Body!.transformToString(), 'first second');
  });
});

describe('other XML bodies over their bound', () => {
  let server: RunningServer;
  let s3: S3Client;
  let close: () => Promise<void>;
  const Bucket = bucketName('mpd');

  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => close());

  /** A signed DeleteObjects head on a raw socket; the body is written by the test. */
  async function deleteHead(headers: Record<string, string>): Promise<Socket> {
    const md5 = createHash('md5').update('').digest('base64');
    const signed = await signRequest(server, { method: 'POST', path: `/${Bucket}`, query: { delete: '' }, payloadHash: 'UNSIGNED-PAYLOAD', headers: { 'content-md5': md5, ...headers } });
    const url = new URL(server.url);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((ok, fail) => socket.once('connect', ok).once('error', fail));
    socket.write(`POST ${signed.path} HTTP/1.1\r\n${Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
    return socket;
  }

  it('DeleteObjects declaring more than 8 MiB is MaxMessageLengthExceeded before any byte of it is sent', async () => {
    const socket = await deleteHead({ 'content-length': String(9 * MIB) });
    try {
      const answer = await oneAnswer(socket, 5000);
      assert.match(answer, /^HTTP\/1\.1 400 /);
      assert.equal(errorCode(answer), 'MaxMessageLengthExceeded', answer);
    } finally {
      socket.destroy();
    }
  });

  it('DeleteObjects streaming past 8 MiB is answered MaxMessageLengthExceeded while the client is still sending', async () => {
    const socket = await deleteHead({ 'transfer-encoding': 'chunked' });
    try {
      const answer = oneAnswer(socket, 10_000);
      // One chunk announced as 64 MiB; 9 MiB of it written, and the chunk never finished.
      socket.write(`${(64 * MIB).toString(16)}\r\n<Delete>`);
      const filler = Buffer.from('<Object><Key>k</Key></Object>'.repeat(4096));
      for (let sent = 0; sent < 9 * MIB; sent += filler.length) {
        if (!socket.write(filler)) await new Promise((ok) => socket.once('drain', ok));
      }
      const text = await answer;
      assert.match(text, /^HTTP\/1\.1 400 /);
      assert.equal(errorCode(text), 'MaxMessageLengthExceeded', text);
      assert.equal(xmlField(text, 'RequestId'), /x-amz-request-id: (\w+)/i.exec(text)?.[1]);
    } finally {
      socket.destroy();
    }
  });
});
