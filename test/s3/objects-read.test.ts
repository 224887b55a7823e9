import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type GetObjectCommandInput, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { errorCode, raw, xmlField } from './raw-signed.js';

describe('GetObject and HeadObject reads', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const bucket = bucketName('read');
  let etag = '';
  let lastModified: Date;
  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    etag = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'digits', Body: '0123456789' }))).ETag!;
    lastModified = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'digits' }))).LastModified!;
  });
  after(() => close());

  const get = async (extra: Partial<GetObjectCommandInput>, Key = 'digits') => {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key, ...extra }));
    return { r, status: r.$metadata.httpStatusCode, body: await r.Body!.transformToString() };
  };

  // [Range, status, body, Content-Range] as AWS answered them (oracle: test_get_object_range).
  const RANGES: Array<[string, number, string, string | undefined]> = [
    ['bytes=0-8', 206, '012345678', 'bytes 0-8/10'],
    ['bytes=1-1', 206, '1', 'bytes 1-1/10'],
    ['bytes=1-0', 200, '0123456789', undefined],
    ['bytes=1-', 206, '123456789', 'bytes 1-9/10'],
    ['bytes=-1-', 200, '0123456789', undefined],
    ['bytes=-2', 206, '89', 'bytes 8-9/10'],
    ['bytes=-9', 206, '123456789', 'bytes 1-9/10'],
    ['bytes=-15', 206, '0123456789', 'bytes 0-9/10'],
    ['bytes=0-100', 206, '0123456789', 'bytes 0-9/10'],
    ['bytes=0-0', 206, '0', 'bytes 0-0/10'],
    ['bytes=0--1', 200, '0123456789', undefined],
    ['bytes=0-1,3-4,7-9', 200, '0123456789', undefined],
    ['0-1', 200, '0123456789', undefined],
    ['bytes=-', 200, '0123456789', undefined],
  ];
  for (const [range, status, body, contentRange] of RANGES) {
    it(`GetObject Range ${range} answers ${status} as AWS`, async () => {
      const g = await get({ Range: range });
      assert.equal(g.status, status);
      assert.equal(g.body, body);
      assert.equal(g.r.ContentRange, contentRange);
      assert.equal(g.r.ContentLength, body.length);
      assert.equal(g.r.ETag, etag);
    });
  }

  it('GetObject Range beyond the object or bytes=-0 is 416 InvalidRange with the range and size', async () => {
    for (const range of ['bytes=100-200', 'bytes=-0', 'bytes=10-']) {
      const e = await s3Error(() => get({ Range: range }));
      assert.equal(e.name, 'InvalidRange', range);
      assert.equal(e.status, 416);
      assert.equal(e.message, 'The requested range is not satisfiable');
      assert.equal(e.raw.RangeRequested, range);
      assert.equal(e.raw.ActualObjectSize, '10');
    }
    const missing = await s3Error(() => get({ Range: 'bytes=0-1' }, 'no-such-key'));
    assert.equal(missing.name, 'NoSuchKey');
  });

  it('GetObject with checksum mode returns the checksum only when the bytes cover the whole object', async () => {
    const part = await get({ Range: 'bytes=0-8', ChecksumMode: 'ENABLED' });
    assert.equal(part.r.ChecksumCRC32, undefined);
    const all = await get({ Range: 'bytes=0-100', ChecksumMode: 'ENABLED' });
    assert.equal(all.status, 206);
    assert.equal(all.r.ChecksumCRC32, 'poTHxg==');
    assert.equal((await get({ ChecksumMode: 'ENABLED' })).r.ChecksumCRC32, 'poTHxg==');
  });

  it('HeadObject with a Range answers 206 with Content-Range and no body', async () => {
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'digits', Range: 'bytes=2-4' }));
    assert.equal(h.$metadata.httpStatusCode, 206);
    assert.equal(h.ContentRange, 'bytes 2-4/10');
    assert.equal(h.ContentLength, 3);
  });

  it('GetObject partNumber=1 of a single-part object is the whole object as 206; partNumber=2 is InvalidPartNumber', async () => {
    const p1 = await get({ PartNumber: 1 });
    assert.equal(p1.status, 206);
    assert.equal(p1.r.ContentRange, 'bytes 0-9/10');
    assert.equal(p1.body, '0123456789');
    const e = await s3Error(() => get({ PartNumber: 2 }));
    assert.equal(e.name, 'InvalidPartNumber');
    assert.equal(e.status, 416);
    assert.equal(e.message, 'The requested partnumber is not satisfiable');
    assert.equal(e.raw.PartNumberRequested, '2');
    assert.equal(e.raw.ActualPartCount, '1');
    const both = await s3Error(() => get({ PartNumber: 1, Range: 'bytes=0-1' }));
    assert.equal(both.name, 'InvalidRequest');
    assert.equal(both.message, 'Cannot specify both Range header and partNumber query parameter');
  });

  it('GetObject If-Match with another ETag is 412 naming If-Match; with the ETag (quoted or not) it succeeds', async () => {
    const e = await s3Error(() => get({ IfMatch: '"0000"' }));
    assert.equal(e.name, 'PreconditionFailed');
    assert.equal(e.status, 412);
    assert.equal(e.raw.Condition, 'If-Match');
    assert.equal((await get({ IfMatch: etag })).status, 200);
    assert.equal((await get({ IfMatch: etag.replace(/"/g, '') })).status, 200);
  });

  it('GetObject If-None-Match with the ETag is 304 Not Modified, quoted or not; HeadObject too', async () => {
    for (const v of [etag, etag.replace(/"/g, '')]) {
      const e = await s3Error(() => get({ IfNoneMatch: v }));
      assert.equal(e.status, 304);
    }
    const h = await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'digits', IfNoneMatch: etag })));
    assert.equal(h.status, 304);
    assert.equal((await get({ IfNoneMatch: '"other"' })).status, 200);
  });

  it('GetObject If-Modified-Since: 304 when not modified since; a date in the future is ignored', async () => {
    assert.equal((await s3Error(() => get({ IfModifiedSince: lastModified }))).status, 304);
    assert.equal((await get({ IfModifiedSince: new Date(Date.now() + 86_400_000) })).status, 200);
    assert.equal((await get({ IfModifiedSince: new Date(lastModified.getTime() - 86_400_000) })).status, 200);
  });

  it('GetObject If-Unmodified-Since: 412 naming it when modified after; equal time succeeds', async () => {
    const e = await s3Error(() => get({ IfUnmodifiedSince: new Date(lastModified.getTime() - 86_400_000) }));
    assert.equal(e.name, 'PreconditionFailed');
    assert.equal(e.raw.Condition, 'If-Unmodified-Since');
    assert.equal((await get({ IfUnmodifiedSince: lastModified })).status, 200);
  });

  it('GetObject precedence: If-Match true beats a false If-Unmodified-Since; If-None-Match false beats a true If-Modified-Since', async () => {
    const past = new Date(lastModified.getTime() - 86_400_000);
    assert.equal((await get({ IfMatch: etag, IfUnmodifiedSince: past })).status, 200);
    const e = await s3Error(() => get({ IfNoneMatch: etag, IfModifiedSince: past }));
    assert.equal(e.status, 304);
    const f = await s3Error(() => get({ IfMatch: '"nope"', IfNoneMatch: etag }));
    assert.equal(f.status, 412, 'a failed If-Match wins over 304');
  });

  it('GetObject 304 carries the ETag and Last-Modified and no body', async () => {
    const r = await raw(server, { method: 'GET', path: `/${bucket}/digits`, headers: { 'if-none-match': etag } });
    assert.equal(r.status, 304);
    assert.equal(r.headers.etag, etag);
    assert.equal(r.headers['last-modified'], lastModified.toUTCString());
    assert.equal(r.body, '');
  });

  it('GetObject response-* query parameters override the stored headers', async () => {
    const g = await get({
      ResponseContentType: 'image/jpeg', ResponseContentLanguage: 'de-DE', ResponseCacheControl: 'max-age=74',
      ResponseContentDisposition: 'attachment; filename="foo.jpg"', ResponseContentEncoding: 'identity',
      ResponseExpires: new Date('2015-10-21T07:28:00Z'),
    });
    assert.equal(g.r.ContentType, 'image/jpeg');
    assert.equal(g.r.ContentLanguage, 'de-DE');
    assert.equal(g.r.CacheControl, 'max-age=74');
    assert.equal(g.r.ContentDisposition, 'attachment; filename="foo.jpg"');
    assert.equal(g.r.ContentEncoding, 'identity');
    assert.equal(g.r.ExpiresString, 'Wed, 21 Oct 2015 07:28:00 GMT');
    assert.equal(g.body, '0123456789');
  });

  it('GetObject with a malformed partNumber is InvalidArgument', async () => {
    const r = await raw(server, { method: 'GET', path: `/${bucket}/digits`, query: { partNumber: 'abc' } });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'InvalidArgument');
    assert.equal(xmlField(r.body, 'ArgumentName'), 'partNumber');
  });
});
