import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { bucketName, client, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { errorCode, raw, sha256Hex, signRequest, xmlField, type RawResponse } from './raw-signed.js';

/** Fetches a URL with node:http (no signing of its own). */
function fetchUrl(url: string, method = 'GET', body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** A STREAMING-AWS4-HMAC-SHA256-PAYLOAD body: every chunk signed, chained from the request's own signature. */
function signedChunks(secret: string, amzDate: string, seed: string, chunks: Buffer[]): string {
  const date = amzDate.slice(0, 8);
  const scope = `${date}/us-east-1/s3/aws4_request`;
  const key = hmac(hmac(hmac(hmac('AWS4' + secret, date), 'us-east-1'), 's3'), 'aws4_request');
  let prev = seed;
  let out = '';
  for (const data of [...chunks, Buffer.alloc(0)]) {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, sha256Hex(''), sha256Hex(data)].join('\n');
    prev = hmac(key, sts).toString('hex');
    out += `${data.length.toString(16)};chunk-signature=${prev}\r\n${data.toString('latin1')}\r\n`;
  }
  return out;
}

describe('authentication over a live server', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const bucket = bucketName('auth');
  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'obj', Body: 'body data' }));
  });
  after(() => close());

  it('presigned GetObject URL reads the object without further signing', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'obj' }), { expiresIn: 60 });
    assert.match(url, /X-Amz-Signature=/);
    const r = await fetchUrl(url);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'body data');
  });

  it('presigned PutObject URL writes an object; a different key with the same signature is SignatureDoesNotMatch', async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'pre put' }), { expiresIn: 60 });
    const r = await fetchUrl(url, 'PUT', 'presigned bytes');
    assert.equal(r.status, 200, r.body);
    const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'pre put' }));
    assert.equal(await g.Body!.transformToString(), 'presigned bytes');
    const tampered = await fetchUrl(url.replace('pre%20put', 'other'), 'PUT', 'x');
    assert.equal(tampered.status, 403);
    assert.equal(errorCode(tampered.body), 'SignatureDoesNotMatch');
    assert.ok(xmlField(tampered.body, 'StringToSign'));
    assert.ok(xmlField(tampered.body, 'CanonicalRequest'));
  });

  it('an expired presigned URL is AccessDenied "Request has expired" with X-Amz-Expires', async () => {
    const signed = await signRequest(server, { method: 'GET', path: `/${bucket}/obj`, presign: 1, signingDate: new Date(Date.now() - 10_000) });
    const r = await fetchUrl(`${server.url}${signed.path}`);
    assert.equal(r.status, 403);
    assert.equal(errorCode(r.body), 'AccessDenied');
    assert.equal(xmlField(r.body, 'Message'), 'Request has expired');
    assert.equal(xmlField(r.body, 'X-Amz-Expires'), '1');
    assert.ok(xmlField(r.body, 'ServerTime'));
  });

  it('a presigned URL missing X-Amz-Signature is AuthorizationQueryParametersError', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'obj' }), { expiresIn: 60 });
    const r = await fetchUrl(url.replace(/&?X-Amz-Signature=[0-9a-f]+/, ''));
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'AuthorizationQueryParametersError');
  });

  it('a request signed with the wrong secret is SignatureDoesNotMatch', async () => {
    const bad = client(server, { credentials: { accessKeyId: server.accessKeyId, secretAccessKey: 'not-the-secret' } });
    try {
      const e = await s3Error(() => bad.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj' })));
      assert.equal(e.name, 'SignatureDoesNotMatch');
      assert.equal(e.status, 403);
      assert.equal(e.message, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
      assert.equal(e.raw.AWSAccessKeyId, server.accessKeyId);
    } finally {
      bad.destroy();
    }
  });

  it('a request with an unknown access key is InvalidAccessKeyId', async () => {
    const bad = client(server, { credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' } });
    try {
      const e = await s3Error(() => bad.send(new HeadObjectCommand({ Bucket: bucket, Key: 'obj' })));
      assert.equal(e.status, 403);
      const r = await raw(server, { method: 'GET', path: `/${bucket}/obj`, accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' });
      assert.equal(r.status, 403);
      assert.equal(errorCode(r.body), 'InvalidAccessKeyId');
      assert.equal(xmlField(r.body, 'Message'), 'The AWS Access Key Id you provided does not exist in our records.');
      assert.equal(xmlField(r.body, 'AWSAccessKeyId'), 'AKIDUNKNOWN');
    } finally {
      bad.destroy();
    }
  });

  it('an Authorization header with a second Signature component is AuthorizationHeaderMalformed, not decided by the last one', async () => {
    const signed = await signRequest(server, { method: 'GET', path: `/${bucket}/obj` });
    const own = /Signature=[0-9a-f]+/.exec(signed.headers.authorization)![0];
    const twice = signed.headers.authorization.replace(own, `Signature=${'0'.repeat(64)}, ${own}`);
    const r = await fetchUrl(`${server.url}${signed.path}`, 'GET', undefined, { ...signed.headers, authorization: twice });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'AuthorizationHeaderMalformed', r.body);
    assert.equal(xmlField(r.body, 'Message')?.replaceAll('&quot;', '"'), `The authorization header is malformed; the authorization component "${own}" is malformed.`);
    assert.equal((await fetchUrl(`${server.url}${signed.path}`, 'GET', undefined, signed.headers)).status, 200, 'the header as signed is accepted');
  });

  it('an unsigned request is AccessDenied, with nothing stored', async () => {
    const get = await raw(server, { method: 'GET', path: `/${bucket}/obj`, unsigned: true });
    assert.equal(get.status, 403);
    assert.equal(errorCode(get.body), 'AccessDenied');
    assert.equal(xmlField(get.body, 'Message'), 'Access Denied');
    const put = await raw(server, { method: 'PUT', path: `/${bucket}/anon`, unsigned: true, body: 'x' });
    assert.equal(put.status, 403);
    assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'anon' })))).status, 404);
  });

  it('a request signed 20 minutes ago is RequestTimeTooSkewed', async () => {
    const r = await raw(server, { method: 'GET', path: `/${bucket}/obj`, signingDate: new Date(Date.now() - 20 * 60_000) });
    assert.equal(r.status, 403);
    assert.equal(errorCode(r.body), 'RequestTimeTooSkewed');
    assert.equal(xmlField(r.body, 'Message'), 'The difference between the request time and the current time is too large.');
  });

  it('a body that does not match x-amz-content-sha256 is XAmzContentSHA256Mismatch and stores nothing', async () => {
    const r = await raw(server, { method: 'PUT', path: `/${bucket}/sha`, body: 'actual body', payloadHash: sha256Hex('other body') });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'XAmzContentSHA256Mismatch');
    assert.equal(xmlField(r.body, 'ClientComputedContentSHA256'), sha256Hex('other body'));
    assert.equal(xmlField(r.body, 'S3ComputedContentSHA256'), sha256Hex('actual body'));
    assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sha' })))).status, 404);
  });

  it('UNSIGNED-PAYLOAD bodies are accepted under a header signature', async () => {
    const r = await raw(server, { method: 'PUT', path: `/${bucket}/unsigned-payload`, body: 'free', payloadHash: 'UNSIGNED-PAYLOAD' });
    assert.equal(r.status, 200);
    const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'unsigned-payload' }));
    assert.equal(await g.Body!.transformToString(), 'free');
  });

  it('the SDK streaming a Readable with ContentLength (aws-chunked with a trailer) stores the bytes', async () => {
    const data = Buffer.alloc(100_000, 'z');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'streamed', Body: Readable.from([data]), ContentLength: data.length }));
    const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'streamed' }));
    assert.ok(Buffer.from(await g.Body!.transformToByteArray()).equals(data));
  });

  it('STREAMING-AWS4-HMAC-SHA256-PAYLOAD: signed chunks are verified; one bad chunk signature stores nothing', async () => {
    const chunks = [Buffer.alloc(8192, 'a'), Buffer.from('tail')];
    const decoded = 8192 + 4;
    const headers = { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(decoded) };
    const put = async (key: string, corrupt: boolean) => {
      const path = `/${bucket}/${key}`;
      const pre = await signRequest(server, { method: 'PUT', path, headers, payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' });
      const seed = /Signature=([0-9a-f]+)/.exec(pre.headers.authorization)![1];
      let body = signedChunks(server.secretAccessKey, pre.headers['x-amz-date'], seed, chunks);
      if (corrupt) body = body.replace('tail', 'tall');
      return raw(server, { method: 'PUT', path, headers: { ...pre.headers, 'content-length': String(Buffer.byteLength(body, 'latin1')) }, body: Buffer.from(body, 'latin1'), unsigned: true });
    };
    const ok = await put('chunked-ok', false);
    assert.equal(ok.status, 200, ok.body);
    const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'chunked-ok' }));
    assert.equal((await g.Body!.transformToString()).length, decoded);
    const bad = await put('chunked-bad', true);
    assert.equal(bad.status, 403);
    assert.equal(errorCode(bad.body), 'SignatureDoesNotMatch');
    assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'chunked-bad' })))).status, 404);
    assert.equal(createHash('md5').update(Buffer.concat(chunks)).digest('hex'), ok.headers.etag?.toString().replace(/"/g, ''));
  });
});
