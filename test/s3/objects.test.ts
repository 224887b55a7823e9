import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
  S3Client, type S3Client as Client,
} from '@aws-sdk/client-s3';
import { bucketName, client, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { errorCode, raw, xmlField } from './raw-signed.js';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';

/** Resolves every host name (e.g. `<bucket>.localhost`) to the loopback address. */
const loopback = new Agent({
  lookup: ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
    opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as any,
});

const md5b64 = (s: string | Buffer) => createHash('md5').update(s).digest('base64');

describe('objects', () => {
  let s3: Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const bucket = bucketName('obj');
  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(() => close());

  const get = async (Key: string, extra: Record<string, unknown> = {}) => {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key, ...extra }));
    return { r, body: Buffer.from(await r.Body!.transformToByteArray()) };
  };

  it('PutObject then GetObject and HeadObject return the bytes, ETag and content headers', async () => {
    const put = await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'doc.txt', Body: 'hello world', ContentType: 'text/plain', ContentEncoding: 'identity',
      ContentDisposition: 'attachment; filename="a.txt"', ContentLanguage: 'de-DE', CacheControl: 'max-age=74',
      Expires: new Date('2030-10-21T07:28:00Z'), Metadata: { color: 'blue', 'two-words': 'x y' },
    }));
    assert.equal(put.ETag, '"5eb63bbbe01eeed093cb22bb8f5acdc3"');
    for (const r of [(await get('doc.txt')).r, await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doc.txt' }))]) {
      assert.equal(r.ETag, '"5eb63bbbe01eeed093cb22bb8f5acdc3"');
      assert.equal(r.ContentLength, 11);
      assert.equal(r.ContentType, 'text/plain');
      assert.equal(r.ContentEncoding, 'identity');
      assert.equal(r.ContentDisposition, 'attachment; filename="a.txt"');
      assert.equal(r.ContentLanguage, 'de-DE');
      assert.equal(r.CacheControl, 'max-age=74');
      assert.equal(r.ExpiresString, 'Mon, 21 Oct 2030 07:28:00 GMT');
      assert.equal(r.AcceptRanges, 'bytes');
      assert.deepEqual(r.Metadata, { color: 'blue', 'two-words': 'x y' });
      assert.ok(r.LastModified instanceof Date);
    }
    assert.equal((await get('doc.txt')).body.toString(), 'hello world');
  });

  it('PutObject without Content-Type stores binary/octet-stream; an empty body round-trips', async () => {
    const put = await raw(server, { method: 'PUT', path: `/${bucket}/empty`, body: '' });
    assert.equal(put.status, 200);
    const { r, body } = await get('empty');
    assert.equal(r.ContentType, 'binary/octet-stream');
    assert.equal(r.ContentLength, 0);
    assert.equal(r.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
    assert.equal(body.length, 0);
  });

  it('PutObject of a body above the inline threshold is stored in a blob file and read back exactly', async () => {
    const data = Buffer.alloc(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: data }));
    assert.equal(put.ETag, `"${createHash('md5').update(data).digest('hex')}"`);
    assert.ok((await get('big.bin')).body.equals(data));
  });

  it('PutObject overwrites: GetObject returns the newest bytes', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'over', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'over', Body: 'two', Metadata: { v: '2' } }));
    const { r, body } = await get('over');
    assert.equal(body.toString(), 'two');
    assert.deepEqual(r.Metadata, { v: '2' });
  });

  it('PutObject with user metadata over 2 KB is MetadataTooLarge; under it is stored', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta-ok', Body: 'x', Metadata: { big: 'v'.repeat(1900) } }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta-ok' }))).Metadata?.big.length, 1900);
    const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta-big', Body: 'x', Metadata: { a: 'v'.repeat(1500), b: 'w'.repeat(1500) } })));
    assert.equal(e.name, 'MetadataTooLarge');
    assert.equal(e.status, 400);
    assert.equal(e.message, 'Your metadata headers exceed the maximum allowed metadata size.');
    assert.equal(e.raw.MaxSizeAllowed, '2048');
    assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta-big' })))).status, 404);
  });

  it('PutObject with a storage class reports it; OUTPOSTS is InvalidStorageClass; GLACIER objects are not readable', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ia', Body: 'x', StorageClass: 'STANDARD_IA' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ia' }))).StorageClass, 'STANDARD_IA');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'std', Body: 'x', StorageClass: 'STANDARD' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'std' }))).StorageClass, undefined);
    const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'op', Body: 'x', StorageClass: 'OUTPOSTS' })));
    assert.equal(e.name, 'InvalidStorageClass');
    assert.equal(e.raw.StorageClassRequested, 'OUTPOSTS');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cold', Body: 'x', StorageClass: 'GLACIER' }));
    const g = await s3Error(() => get('cold'));
    assert.equal(g.name, 'InvalidObjectState');
    assert.equal(g.status, 403);
    assert.equal(g.raw.StorageClass, 'GLACIER');
  });

  it('PutObject with a Content-MD5 that is not 16 base64 bytes is InvalidDigest', async () => {
    for (const v of ['__invalid__', '000', 'not base64 encoded checksum', 'MTIz', 'dGVzdC1zdHJpbmc=']) {
      const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: 'something', ContentMD5: v })));
      assert.equal(e.name, 'InvalidDigest', v);
      assert.equal(e.status, 400);
      assert.equal(e.message, 'The Content-MD5 you specified was invalid.');
      assert.equal(e.raw['Content-MD5'], v);
    }
  });

  it('PutObject with a wrong Content-MD5 is BadDigest and stores nothing; the right one succeeds', async () => {
    const wrong = md5b64('something else');
    const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: 'something', ContentMD5: wrong })));
    assert.equal(e.name, 'BadDigest');
    assert.equal(e.message, 'The Content-MD5 you specified did not match what we received.');
    assert.equal(e.raw.ExpectedDigest, Buffer.from(wrong, 'base64').toString('hex'));
    assert.equal(e.raw.CalculatedDigest, md5b64('something'));
    assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'md5' })))).status, 404);
    const ok = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: 'something', ContentMD5: md5b64('something') }));
    assert.equal(ok.ETag, '"437b930db84b8079c2dd804a71936b5f"');
  });

  it('DeleteObject removes the object and answers 204 even when the key is missing', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: 'x' }));
    assert.equal((await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }))).$metadata.httpStatusCode, 204);
    const e = await s3Error(() => get('gone'));
    assert.equal(e.name, 'NoSuchKey');
    assert.equal(e.status, 404);
    assert.equal(e.message, 'The specified key does not exist.');
    assert.equal(e.raw.Key, 'gone');
    assert.equal((await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'never-was' }))).$metadata.httpStatusCode, 204);
  });

  it('HeadObject of a missing key is 404 without a body; GetObject in a missing bucket is NoSuchBucket', async () => {
    const h = await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'nope' })));
    assert.equal(h.status, 404);
    assert.equal(h.name, 'NotFound');
    const b = await s3Error(() => s3.send(new GetObjectCommand({ Bucket: bucketName('nob'), Key: 'k' })));
    assert.equal(b.name, 'NoSuchBucket');
    assert.equal(b.status, 404);
  });

  it('Keys with ../, %, +, spaces, unicode, trailing slashes and uppercase round-trip through PUT, GET, HEAD and listing', async () => {
    const keys = ['../up', 'a/../b', '%', 'test%123/', '100%25', 'a+b', 'a b  c', 'emoji/😀/', 'ü-ß-中文', 'trail/', 'test key//',
      'CamelCase', '?query=like&x', '#hash', 'a//b', '~tilde*star', "quote'\"<>", ' lead-space', 'tab\tch'];
    for (const Key of keys) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `rt/${Key}`, Body: `body of ${Key}` }));
      const { body } = await get(`rt/${Key}`);
      assert.equal(body.toString(), `body of ${Key}`, Key);
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `rt/${Key}` }))).ContentLength, Buffer.byteLength(`body of ${Key}`));
    }
    assert.equal((await s3Error(() => get('rt/camelcase'))).name, 'NoSuchKey');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'rt/' }));
    assert.deepEqual(new Set(listed.Contents?.map((c) => c.Key)), new Set(keys.map((k) => `rt/${k}`)));
  });

  it('Keys of 1024 UTF-8 bytes are accepted; 1025 bytes is KeyTooLongError', async () => {
    const ok = 'k/' + 'é'.repeat(511);
    assert.equal(Buffer.byteLength(ok), 1024);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: ok, Body: 'long' }));
    assert.equal((await get(ok)).body.toString(), 'long');
    const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: ok + 'x', Body: 'long' })));
    assert.equal(e.name, 'KeyTooLongError');
    assert.equal(e.status, 400);
    assert.equal(e.message, 'Your key is too long');
  });

  it('Virtual-hosted-style requests through the SDK (forcePathStyle false) reach the same objects', async () => {
    const vhost = new S3Client({
      endpoint: `http://localhost:${server.port}`, region: 'us-east-1', forcePathStyle: false, requestHandler: new NodeHttpHandler({ httpAgent: loopback }),
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    try {
      await vhost.send(new PutObjectCommand({ Bucket: bucket, Key: 'vh/a b+c', Body: 'virtual' }));
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'vh/a b+c' }));
      assert.equal(await r.Body!.transformToString(), 'virtual');
      const back = await vhost.send(new GetObjectCommand({ Bucket: bucket, Key: 'vh/a b+c' }));
      assert.equal(await back.Body!.transformToString(), 'virtual');
      const listed = await vhost.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'vh/' }));
      assert.deepEqual(listed.Contents?.map((c) => c.Key), ['vh/a b+c']);
    } finally {
      vhost.destroy();
    }
  });

  it('Virtual-hosted-style raw requests with a Host header name the bucket', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'host/x', Body: 'by host' }));
    const r = await raw(server, { method: 'GET', path: '/host/x', headers: { host: `${bucket}.localhost:${server.port}` } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'by host');
    const missing = await raw(server, { method: 'GET', path: '/', headers: { host: `no-such-${bucket}.localhost:${server.port}` } });
    assert.equal(missing.status, 404);
    assert.equal(errorCode(missing.body), 'NoSuchBucket');
    assert.equal(xmlField(missing.body, 'BucketName'), `no-such-${bucket}`);
  });
});

describe('objects through a second client configuration', () => {
  it('PutObject from a client with checksums only when required stores the bytes unchanged', async () => {
    const { server, s3, close } = await liveServer();
    const c = client(server, { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    try {
      const b = bucketName();
      await s3.send(new CreateBucketCommand({ Bucket: b }));
      await c.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'plain' }));
      const r = await c.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
      assert.equal(await r.Body!.transformToString(), 'plain');
    } finally {
      c.destroy();
      await close();
    }
  });
});
