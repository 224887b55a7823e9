import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand,
  GetObjectTaggingCommand, HeadObjectCommand, PutObjectCommand, UploadPartCommand, type CopyObjectCommandInput, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';

const IN_PLACE = "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.";
const JSON_BODY = '{"key": "value"}';

/**
 * CopyObject against the answers AWS recorded (oracle test_s3.snapshot.json:
 * test_s3_copy_*, test_multipart_copy_object_etag, test_copy_object_special_character;
 * test_s3_api.snapshot.json: TestS3ObjectWritePrecondition::test_copy_object_*).
 */
describe('CopyObject', () => {
  let s3: S3Client;
  let close: () => Promise<void>;
  const Bucket = bucketName('cpo');

  before(async () => {
    ({ s3, close } = await liveServer({ minPartSize: 1 }));
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => close());

  const put = (Key: string, Body: string | Buffer, extra: Record<string, unknown> = {}) => s3.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }));
  const cp = (Key: string, from: string, extra: Partial<CopyObjectCommandInput> = {}) =>
    s3.send(new CopyObjectCommand({ Bucket, Key, CopySource: `${Bucket}/${from}`, ...extra }));
  const head = (Key: string) => s3.send(new HeadObjectCommand({ Bucket, Key }));
  const read = async (Key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray());
  const tags = async (Key: string) => (await s3.send(new GetObjectTaggingCommand({ Bucket, Key }))).TagSet!.map((t) => [t.Key, t.Value]);

  it('CopyObject keeps the source ETag, checksum, content type and metadata by default (recorded)', async () => {
    const p = await put('source-object', JSON_BODY, { ContentType: 'application/json', Metadata: { key: 'value' } });
    assert.equal(p.ETag, '"88bac95f31528d13a072c05f2a1cf371"');
    assert.equal(p.ChecksumCRC32, 'MzVIGw==');
    const r = await cp('source-object-copy', 'source-object');
    assert.equal(r.CopyObjectResult!.ETag, '"88bac95f31528d13a072c05f2a1cf371"');
    assert.equal(r.CopyObjectResult!.ChecksumCRC32, 'MzVIGw==');
    assert.equal(r.CopyObjectResult!.ChecksumType, 'FULL_OBJECT');
    assert.ok(r.CopyObjectResult!.LastModified instanceof Date);
    assert.equal(r.VersionId, undefined);
    assert.equal(r.CopySourceVersionId, undefined);
    const h = await head('source-object-copy');
    assert.equal(h.ContentType, 'application/json');
    assert.deepEqual(h.Metadata, { key: 'value' });
    assert.equal(h.ContentLength, 16);
    assert.equal((await read('source-object-copy')).toString(), JSON_BODY);
    // without REPLACE, metadata in the request is ignored
    await cp('source-object-second-copy', 'source-object', { Metadata: { 'another-key': 'value' }, ContentType: 'application/javascript' });
    const h2 = await head('source-object-second-copy');
    assert.equal(h2.ContentType, 'application/json');
    assert.deepEqual(h2.Metadata, { key: 'value' });
  });

  it('CopyObject MetadataDirective REPLACE takes content headers and metadata from the request (recorded)', async () => {
    await put('meta-src', JSON_BODY, { ContentType: 'application/json', Metadata: { key: 'value' }, ContentLanguage: 'en-US' });
    const r = await cp('meta-src-copy', 'meta-src', { Metadata: { 'another-key': 'value' }, ContentType: 'image/jpg', MetadataDirective: 'REPLACE' });
    assert.equal(r.CopyObjectResult!.ETag, '"88bac95f31528d13a072c05f2a1cf371"');
    const h = await head('meta-src-copy');
    assert.equal(h.ContentType, 'image/jpg');
    assert.deepEqual(h.Metadata, { 'another-key': 'value' });
    assert.equal(h.ContentLanguage, undefined);
  });

  it('CopyObject MetadataDirective COPY ignores the request metadata and content headers (recorded)', async () => {
    await put('copy-src', 'test', { Metadata: { key: 'value' }, ContentLanguage: 'en-US' });
    const r = await cp('copy-src-copy', 'copy-src', { Metadata: { 'another-key': 'value' }, ContentLanguage: 'en-GB', ContentType: 'image/jpg', MetadataDirective: 'COPY' });
    assert.equal(r.CopyObjectResult!.ETag, '"098f6bcd4621d373cade4e832627b4f6"');
    assert.equal(r.CopyObjectResult!.ChecksumCRC32, '2H9+DA==');
    const h = await head('copy-src-copy');
    assert.equal(h.ContentLanguage, 'en-US');
    assert.equal(h.ContentType, (await head('copy-src')).ContentType);
    assert.deepEqual(h.Metadata, { key: 'value' });
  });

  it('CopyObject with an unknown directive -> InvalidArgument', async () => {
    await put('dir-src', 'x');
    for (const [name, extra] of [['x-amz-metadata-directive', { MetadataDirective: 'MOVE' }], ['x-amz-tagging-directive', { TaggingDirective: 'MOVE' }]] as const) {
      const e = await s3Error(() => cp('dir-dst', 'dir-src', extra as unknown as Partial<CopyObjectCommandInput>));
      assert.equal(e.name, 'InvalidArgument');
      assert.equal(e.raw.ArgumentName, name);
      assert.equal(e.raw.ArgumentValue, 'MOVE');
    }
  });

  for (const directive of ['COPY', 'REPLACE', undefined] as const) {
    it(`CopyObject TaggingDirective ${directive ?? 'absent'}: ${directive === 'REPLACE' ? "the request's tags" : "the source's tags"} (recorded)`, async () => {
      const src = `tag-src-${directive}`;
      await put(src, 'test', { Tagging: 'key1=value1' });
      const extra = directive ? { TaggingDirective: directive } : {};
      await cp(`${src}-copy`, src, { Tagging: 'key2=value2', ...extra });
      assert.deepEqual(await tags(`${src}-copy`), directive === 'REPLACE' ? [['key2', 'value2']] : [['key1', 'value1']]);
      await cp(`${src}-copy-empty`, src, extra);
      assert.deepEqual(await tags(`${src}-copy-empty`), directive === 'REPLACE' ? [] : [['key1', 'value1']]);
    });
  }

  it('CopyObject does not copy the storage class (recorded)', async () => {
    await put('ia-src', 'test', { StorageClass: 'STANDARD_IA' });
    const r = await cp('ia-dst', 'ia-src');
    assert.equal(r.CopyObjectResult!.ETag, '"098f6bcd4621d373cade4e832627b4f6"');
    assert.equal((await head('ia-dst')).StorageClass, undefined);
    await cp('ia-dst2', 'ia-src', { StorageClass: 'ONEZONE_IA' });
    assert.equal((await head('ia-dst2')).StorageClass, 'ONEZONE_IA');
    // in place, the default class STANDARD is still "no change"
    const e = await s3Error(() => cp('ia-src', 'ia-src'));
    assert.equal(e.name, 'InvalidRequest');
    assert.equal(e.message, IN_PLACE);
  });

  it('CopyObject onto itself without a change -> InvalidRequest; a storage class, REPLACE, a redirect or a condition make it legal (recorded)', async () => {
    await put('in-place', JSON_BODY, { ContentType: 'application/json', Metadata: { key: 'value' } });
    for (const extra of [{}, { Metadata: { key: 'value' } }, { MetadataDirective: 'COPY' }, { ACL: 'public-read' }, { TaggingDirective: 'REPLACE', Tagging: 'a=b' }] as Partial<CopyObjectCommandInput>[]) {
      const e = await s3Error(() => cp('in-place', 'in-place', extra));
      assert.equal(e.status, 400);
      assert.equal(e.name, 'InvalidRequest');
      assert.equal(e.message, IN_PLACE);
    }
    const sc = await cp('in-place', 'in-place', { ChecksumAlgorithm: 'SHA256', StorageClass: 'STANDARD' });
    assert.equal(sc.CopyObjectResult!.ETag, '"88bac95f31528d13a072c05f2a1cf371"');
    assert.equal(sc.CopyObjectResult!.ChecksumSHA256, 'lyTB4g5uPk1/V+0l+dTvsAblCFkNUoyQ2ll/andcE+U=');
    assert.equal(sc.CopyObjectResult!.ChecksumType, 'FULL_OBJECT');
    assert.deepEqual((await head('in-place')).Metadata, { key: 'value' });

    const rep = await cp('in-place', 'in-place', { Metadata: { key2: 'value2' }, MetadataDirective: 'REPLACE' });
    assert.equal(rep.CopyObjectResult!.ETag, '"88bac95f31528d13a072c05f2a1cf371"');
    let h = await head('in-place');
    assert.equal(h.ContentType, 'binary/octet-stream');
    assert.deepEqual(h.Metadata, { key2: 'value2' });
    await cp('in-place', 'in-place', { MetadataDirective: 'COPY', Metadata: { key3: 'value3' }, StorageClass: 'STANDARD' });
    assert.deepEqual((await head('in-place')).Metadata, { key2: 'value2' });
    await cp('in-place', 'in-place', { MetadataDirective: 'REPLACE' });
    h = await head('in-place');
    assert.deepEqual(h.Metadata, {});
    assert.equal((await read('in-place')).toString(), JSON_BODY);

    await put('redirect', 'test', { WebsiteRedirectLocation: '/test/direct' });
    const rd = await cp('redirect', 'redirect', { WebsiteRedirectLocation: '/test/direct' });
    assert.equal(rd.CopyObjectResult!.ETag, '"098f6bcd4621d373cade4e832627b4f6"');
    assert.equal((await head('redirect')).WebsiteRedirectLocation, '/test/direct');
  });

  it('CopyObject with ChecksumAlgorithm computes that checksum; the next copy keeps it (recorded)', async () => {
    const expected = { CRC32: 'MzVIGw==', SHA256: 'lyTB4g5uPk1/V+0l+dTvsAblCFkNUoyQ2ll/andcE+U=', SHA1: createHash('sha1').update(JSON_BODY).digest('base64') } as const;
    for (const [algorithm, value] of Object.entries(expected) as Array<[keyof typeof expected, string]>) {
      const Key = `ck-${algorithm}`;
      await put(Key, JSON_BODY, { ContentType: 'application/json', Metadata: { key: 'value' } });
      const r = await cp(Key, Key, { ChecksumAlgorithm: algorithm, Metadata: { key1: 'value1' }, MetadataDirective: 'REPLACE' });
      assert.equal((r.CopyObjectResult as Record<string, unknown>)[`Checksum${algorithm}`], value);
      assert.equal(r.CopyObjectResult!.ChecksumType, 'FULL_OBJECT');
      const again = await cp(`${Key}-dest`, Key);
      assert.equal((again.CopyObjectResult as Record<string, unknown>)[`Checksum${algorithm}`], value);
      const h = await s3.send(new HeadObjectCommand({ Bucket, Key: `${Key}-dest`, ChecksumMode: 'ENABLED' }));
      assert.equal((h as unknown as Record<string, unknown>)[`Checksum${algorithm}`], value);
    }
  });

  it('CopyObject of a multipart object gives a single-part MD5 ETag and keeps the full-object checksum (recorded)', async () => {
    const content = 'test content 123';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'test.file', ChecksumAlgorithm: 'CRC64NVME' }));
    const part = await s3.send(new UploadPartCommand({ Bucket, Key: 'test.file', UploadId, PartNumber: 1, Body: content, ChecksumAlgorithm: 'CRC64NVME' }));
    const done = await s3.send(new CompleteMultipartUploadCommand({
      Bucket, Key: 'test.file', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC64NVME: part.ChecksumCRC64NVME }] },
    }));
    assert.equal(done.ETag, '"b972025bc34adf8d76d6d51e93c035cc-1"');
    assert.equal(done.ChecksumCRC64NVME, 'BsLNlKumA5I=');
    const r = await cp('copy.file', 'test.file');
    assert.equal(r.CopyObjectResult!.ETag, '"eee506dd7ada7ded524c77e359a0e7c6"');
    assert.equal(r.CopyObjectResult!.ChecksumCRC64NVME, 'BsLNlKumA5I=');
    assert.equal(r.CopyObjectResult!.ChecksumType, 'FULL_OBJECT');
    const inPlace = await cp('test.file', 'test.file', { MetadataDirective: 'REPLACE' });
    assert.equal(inPlace.CopyObjectResult!.ETag, '"eee506dd7ada7ded524c77e359a0e7c6"');
    const h = await s3.send(new HeadObjectCommand({ Bucket, Key: 'test.file', ChecksumMode: 'ENABLED' }));
    assert.equal(h.ETag, '"eee506dd7ada7ded524c77e359a0e7c6"');
    assert.equal(h.ContentLength, 16);
    assert.equal(h.PartsCount, undefined);
    assert.equal(h.ChecksumCRC64NVME, 'BsLNlKumA5I=');
    assert.equal((await read('test.file')).toString(), content);
  });

  it('CopyObject of a multipart object with a COMPOSITE checksum gives it a FULL_OBJECT one of the same algorithm', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'composite', ChecksumAlgorithm: 'SHA256' }));
    const bodies = ['first part ', 'second part'];
    const parts = [];
    for (const [i, Body] of bodies.entries()) {
      const p = await s3.send(new UploadPartCommand({ Bucket, Key: 'composite', UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'SHA256' }));
      parts.push({ PartNumber: i + 1, ETag: p.ETag, ChecksumSHA256: p.ChecksumSHA256 });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'composite', UploadId, MultipartUpload: { Parts: parts } }));
    const r = await cp('composite-copy', 'composite');
    const whole = bodies.join('');
    assert.equal(r.CopyObjectResult!.ETag, `"${createHash('md5').update(whole).digest('hex')}"`);
    assert.equal(r.CopyObjectResult!.ChecksumSHA256, createHash('sha256').update(whole).digest('base64'));
    assert.equal(r.CopyObjectResult!.ChecksumType, 'FULL_OBJECT');
  });

  it('CopyObject of keys with special characters, the source URL-encoded (recorded)', async () => {
    for (const key of ['file%2Fname', 'test@key/', 'test key/', 'test key//', 'a/%F0%9F%98%80/', 'test+key', 'a/😀/ü', 'q?versionId=x', '100%']) {
      await put(key, 'test');
      const r = await s3.send(new CopyObjectCommand({ Bucket, Key: `dst/${key}`, CopySource: `${Bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}` }));
      assert.equal(r.CopyObjectResult!.ETag, '"098f6bcd4621d373cade4e832627b4f6"', key);
      assert.equal(r.CopyObjectResult!.ChecksumCRC32, '2H9+DA==');
      assert.equal((await read(`dst/${key}`)).toString(), 'test');
    }
  });

  it('CopyObject with a malformed source -> InvalidArgument (recorded); missing bucket or key -> 404 (recorded)', async () => {
    const e = await s3Error(() => s3.send(new CopyObjectCommand({ Bucket, Key: 'x', CopySource: 'x-amz-copy-source' })));
    assert.equal(e.status, 400);
    assert.equal(e.name, 'InvalidArgument');
    assert.equal(e.message, 'Invalid copy source object key');
    assert.equal(e.raw.ArgumentName, 'x-amz-copy-source');
    assert.equal(e.raw.ArgumentValue, 'x-amz-copy-source');
    const nb = await s3Error(() => s3.send(new CopyObjectCommand({ Bucket, Key: 'x', CopySource: 'tessera-missing-bucket/random-src-key' })));
    assert.equal(nb.status, 404);
    assert.equal(nb.name, 'NoSuchBucket');
    assert.equal(nb.raw.BucketName, 'tessera-missing-bucket');
    const nk = await s3Error(() => cp('x', 'random-src-key'));
    assert.equal(nk.status, 404);
    assert.equal(nk.name, 'NoSuchKey');
    assert.equal(nk.raw.Key, 'random-src-key');
  });

  it('CopyObject conditional writes on the destination: If-None-Match *, If-Match (recorded)', async () => {
    await put('source-object', 'source content');
    const first = await cp('dest-object', 'source-object', { IfNoneMatch: '*' });
    assert.equal(first.CopyObjectResult!.ETag, `"${createHash('md5').update('source content').digest('hex')}"`);
    const again = await s3Error(() => cp('dest-object', 'source-object', { IfNoneMatch: '*' }));
    assert.equal(again.status, 412);
    assert.equal(again.name, 'PreconditionFailed');
    assert.equal(again.raw.Condition, 'If-None-Match');
    const wrong = await s3Error(() => cp('dest-object', 'source-object', { IfMatch: '"d41d8cd98f00b204e9800998ecf8427e"' }));
    assert.equal(wrong.raw.Condition, 'If-Match');
    const missing = await s3Error(() => cp('non-existent-key', 'source-object', { IfMatch: first.CopyObjectResult!.ETag }));
    assert.equal(missing.status, 404);
    assert.equal(missing.name, 'NoSuchKey');
    assert.equal(missing.raw.Key, 'non-existent-key');
    const ok = await cp('dest-object', 'source-object', { IfMatch: first.CopyObjectResult!.ETag });
    assert.equal(ok.CopyObjectResult!.ETag, first.CopyObjectResult!.ETag);
    // in place: If-None-Match fails on the condition, If-Match copies (recorded)
    const inPlace = await s3Error(() => cp('source-object', 'source-object', { IfNoneMatch: '*' }));
    assert.equal(inPlace.raw.Condition, 'If-None-Match');
    const inPlaceOk = await cp('source-object', 'source-object', { IfMatch: first.CopyObjectResult!.ETag });
    assert.equal(inPlaceOk.CopyObjectResult!.ETag, first.CopyObjectResult!.ETag);
  });

  it('CopyObject conditional-write header validation -> 501 NotImplemented (recorded)', async () => {
    const cases: Array<[Partial<CopyObjectCommandInput>, string, string]> = [
      [{ IfNoneMatch: '"etag"' }, 'If-None-Match', "We don't accept the provided value of If-None-Match header for this API"],
      [{ IfMatch: '*' }, 'If-Match', "We don't accept the provided value of If-Match header for this API"],
      [{ IfMatch: '"a"', IfNoneMatch: '*' }, 'If-Match,If-None-Match', 'Multiple conditional request headers present in the request'],
    ];
    for (const [extra, hdr, additional] of cases) {
      const e = await s3Error(() => cp('dest-object', 'source-object', extra));
      assert.equal(e.status, 501);
      assert.equal(e.name, 'NotImplemented');
      assert.equal(e.raw.Header, hdr);
      assert.equal(e.raw.additionalMessage, additional);
    }
  });

  it('CopyObject copy-source conditions: each failure is 412 naming the header; a future if-modified-since is ignored', async () => {
    await put('pre-src', 'data');
    await new Promise((ok) => setTimeout(ok, 1100));
    const now = new Date();
    const yesterday = new Date(now.getTime() - 86_400_000);
    const etag = (await head('pre-src')).ETag!;
    const expect = async (extra: Partial<CopyObjectCommandInput>, condition: string) => {
      const e = await s3Error(() => cp('pre-dst', 'pre-src', extra));
      assert.equal(e.status, 412);
      assert.equal(e.raw.Condition, condition);
    };
    await expect({ CopySourceIfModifiedSince: now, CopySourceIfUnmodifiedSince: yesterday, CopySourceIfMatch: 'etag123', CopySourceIfNoneMatch: etag }, 'x-amz-copy-source-If-Match');
    await expect({ CopySourceIfModifiedSince: now, CopySourceIfUnmodifiedSince: yesterday, CopySourceIfNoneMatch: etag }, 'x-amz-copy-source-If-Unmodified-Since');
    await expect({ CopySourceIfModifiedSince: now, CopySourceIfNoneMatch: etag }, 'x-amz-copy-source-If-None-Match');
    await expect({ CopySourceIfModifiedSince: now }, 'x-amz-copy-source-If-Modified-Since');
    await expect({ CopySourceIfNoneMatch: etag.replace(/"/g, '') }, 'x-amz-copy-source-If-None-Match');
    const future = await cp('pre-dst', 'pre-src', { CopySourceIfModifiedSince: new Date(Date.now() + 86_400_000) });
    assert.equal(future.CopyObjectResult!.ETag, etag);
    const all = await cp('pre-dst', 'pre-src', {
      CopySourceIfMatch: etag.replace(/"/g, ''), CopySourceIfNoneMatch: 'etag123', CopySourceIfModifiedSince: yesterday, CopySourceIfUnmodifiedSince: now,
    });
    assert.equal(all.CopyObjectResult!.ETag, etag);
  });

  it('CopyObject checks x-amz-expected-bucket-owner and x-amz-source-expected-bucket-owner', async () => {
    await put('own-src', 'x');
    for (const extra of [{ ExpectedBucketOwner: '210987654321' }, { ExpectedSourceBucketOwner: '210987654321' }]) {
      const e = await s3Error(() => cp('own-dst', 'own-src', extra));
      assert.equal(e.status, 403);
      assert.equal(e.name, 'AccessDenied');
    }
    const ok = await cp('own-dst', 'own-src', { ExpectedBucketOwner: '123456789012', ExpectedSourceBucketOwner: '123456789012' });
    assert.equal(ok.CopyObjectResult!.ETag, `"${createHash('md5').update('x').digest('hex')}"`);
  });

  it('CopyObject between buckets; the source is never modified', async () => {
    const Other = bucketName('cpo-b');
    await s3.send(new CreateBucketCommand({ Bucket: Other }));
    const body = Buffer.alloc(300_000, 7);
    const p = await put('cross', body, { ContentType: 'application/x-test' });
    const r = await s3.send(new CopyObjectCommand({ Bucket: Other, Key: 'cross', CopySource: `/${Bucket}/cross` }));
    assert.equal(r.CopyObjectResult!.ETag, p.ETag);
    const got = await s3.send(new GetObjectCommand({ Bucket: Other, Key: 'cross' }));
    assert.equal(got.ContentType, 'application/x-test');
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    const src = await head('cross');
    assert.equal(src.ETag, p.ETag);
    assert.ok((await read('cross')).equals(body));
  });
});
