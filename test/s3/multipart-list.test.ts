import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, ListPartsCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';

describe('ListParts', () => {
  let s3: S3Client;
  let close: () => Promise<void>;
  const Bucket = bucketName('lp');
  const Key = 'parts';
  let UploadId: string;

  before(async () => {
    ({ s3, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket }));
    UploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }))).UploadId!;
  });
  after(() => close());

  it('ListParts of a new upload: no parts, markers 0, initiator and owner, STANDARD', async () => {
    const r = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    assert.equal(r.Parts, undefined);
    assert.equal(r.IsTruncated, false);
    assert.equal(r.MaxParts, 1000);
    assert.equal(r.PartNumberMarker, '0');
    assert.equal(r.NextPartNumberMarker, '0');
    assert.equal(r.StorageClass, 'STANDARD');
    assert.ok(r.Initiator?.ID && r.Initiator.DisplayName);
    assert.equal(r.Owner?.ID, r.Initiator?.ID);
  });

  it('ListParts paginates with max-parts and part-number-marker', async () => {
    for (const n of [1, 2]) await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: n, Body: 'data' }));
    const first = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId, MaxParts: 1 }));
    assert.equal(first.IsTruncated, true);
    assert.equal(first.NextPartNumberMarker, '1');
    assert.deepEqual(first.Parts!.map((p) => [p.PartNumber, p.Size, p.ETag]), [[1, 4, '"8d777f385d3dfec8815d20f7496026dc"']]);
    const next = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId, MaxParts: 1, PartNumberMarker: first.NextPartNumberMarker }));
    assert.equal(next.IsTruncated, false);
    assert.equal(next.PartNumberMarker, '1');
    assert.deepEqual(next.Parts!.map((p) => p.PartNumber), [2]);
    const beyond = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId, MaxParts: 1, PartNumberMarker: '10' }));
    assert.equal(beyond.Parts, undefined);
    assert.equal(beyond.NextPartNumberMarker, '0');
  });

  it('ListParts with another key for the upload id is NoSuchUpload', async () => {
    const e = await s3Error(() => s3.send(new ListPartsCommand({ Bucket, Key: 'other', UploadId })));
    assert.equal(e.status, 404);
    assert.equal(e.name, 'NoSuchUpload');
    assert.equal(e.raw.UploadId, UploadId);
  });
});

describe('ListMultipartUploads', () => {
  let s3: S3Client;
  let close: () => Promise<void>;
  const Bucket = bucketName('lmu');
  const ids: Record<string, string[]> = {};

  before(async () => {
    ({ s3, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket }));
    // Three uploads for key1 in initiation order, one each for key2 and key3.
    for (const key of ['key3', 'key2', 'key1', 'key1', 'key1']) {
      const r = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
      (ids[key] ??= []).push(r.UploadId!);
      await new Promise((ok) => setTimeout(ok, 3));
    }
  });
  after(() => close());

  it('ListMultipartUploads lists by key, then initiation order; Next markers name the last upload', async () => {
    const r = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
    assert.deepEqual(r.Uploads!.map((u) => u.UploadId), [...ids.key1, ...ids.key2, ...ids.key3]);
    assert.equal(r.IsTruncated, false);
    assert.equal(r.NextKeyMarker, 'key3');
    assert.equal(r.NextUploadIdMarker, ids.key3[0]);
    assert.equal(r.MaxUploads, 1000);
    assert.equal(r.Uploads![0].StorageClass, 'STANDARD');
    assert.ok(r.Uploads![0].Initiated instanceof Date);
  });

  it('ListMultipartUploads paginates with key-marker and upload-id-marker', async () => {
    const one = await s3.send(new ListMultipartUploadsCommand({ Bucket, MaxUploads: 1 }));
    assert.equal(one.IsTruncated, true);
    assert.deepEqual(one.Uploads!.map((u) => u.UploadId), [ids.key1[0]]);
    const keyOnly = await s3.send(new ListMultipartUploadsCommand({ Bucket, MaxUploads: 1, KeyMarker: 'key1' }));
    assert.deepEqual(keyOnly.Uploads!.map((u) => u.UploadId), [ids.key2[0]]);
    const both = await s3.send(new ListMultipartUploadsCommand({ Bucket, MaxUploads: 1, KeyMarker: 'key1', UploadIdMarker: ids.key1[0] }));
    assert.deepEqual(both.Uploads!.map((u) => u.UploadId), [ids.key1[1]]);
    assert.equal(both.UploadIdMarker, ids.key1[0]);
    const across = await s3.send(new ListMultipartUploadsCommand({ Bucket, MaxUploads: 1, KeyMarker: 'key1', UploadIdMarker: ids.key1[2] }));
    assert.deepEqual(across.Uploads!.map((u) => u.UploadId), [ids.key2[0]]);
    const last = await s3.send(new ListMultipartUploadsCommand({ Bucket, MaxUploads: 1, KeyMarker: 'key3' }));
    assert.equal(last.Uploads, undefined);
    assert.equal(last.IsTruncated, false);
    assert.equal(last.NextKeyMarker, '');
    const idOnly = await s3.send(new ListMultipartUploadsCommand({ Bucket, MaxUploads: 1, UploadIdMarker: ids.key2[0] }));
    assert.deepEqual(idOnly.Uploads!.map((u) => u.UploadId), [ids.key1[0]]);
    assert.equal(idOnly.UploadIdMarker, '');
  });

  it('ListMultipartUploads lists uploads of one key initiated in the same millisecond in initiation order, across pages', async () => {
    const Key = 'same-ms';
    const created: string[] = [];
    const now = Date.now;
    const frozen = now();
    Date.now = () => frozen;
    try {
      for (let i = 0; i < 6; i++) created.push((await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }))).UploadId!);
    } finally {
      Date.now = now;
    }
    const all = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: Key }));
    assert.deepEqual(all.Uploads!.map((u) => u.UploadId), created);
    assert.equal(new Set(all.Uploads!.map((u) => u.Initiated!.getTime())).size, 1, 'one millisecond');
    const paged: string[] = [];
    let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
    for (;;) {
      const page = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: Key, MaxUploads: 2, ...markers }));
      paged.push(...(page.Uploads ?? []).map((u) => u.UploadId!));
      if (!page.IsTruncated) break;
      markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
    }
    assert.deepEqual(paged, created);
  });

  it('ListMultipartUploads with an upload-id-marker of another key is InvalidArgument', async () => {
    const e = await s3Error(() => s3.send(new ListMultipartUploadsCommand({ Bucket, KeyMarker: 'key3', UploadIdMarker: ids.key2[0] })));
    assert.equal(e.status, 400);
    assert.equal(e.name, 'InvalidArgument');
    assert.equal(e.message, 'Invalid uploadId marker');
    assert.equal(e.raw.ArgumentName, 'upload-id-marker');
  });

  it('ListMultipartUploads rolls keys up into CommonPrefixes under a delimiter', async () => {
    for (const key of ['test/foo/a', 'test/foo/bar/b', 'test/bar/c', 'test/top']) await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: key }));
    const r = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'test/', Delimiter: '/' }));
    assert.deepEqual(r.CommonPrefixes!.map((p) => p.Prefix), ['test/bar/', 'test/foo/']);
    assert.deepEqual(r.Uploads!.map((u) => u.Key), ['test/top']);
    const deeper = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'test/foo/', Delimiter: '/' }));
    assert.deepEqual(deeper.CommonPrefixes!.map((p) => p.Prefix), ['test/foo/bar/']);
    assert.deepEqual(deeper.Uploads!.map((u) => u.Key), ['test/foo/a']);
    // A key marker inside a CommonPrefix skips the whole prefix.
    const skip = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'test/', Delimiter: '/', KeyMarker: 'test/bar/' }));
    assert.deepEqual(skip.CommonPrefixes!.map((p) => p.Prefix), ['test/foo/']);
    const page = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'test/', Delimiter: '/', MaxUploads: 1 }));
    assert.equal(page.IsTruncated, true);
    assert.deepEqual(page.CommonPrefixes!.map((p) => p.Prefix), ['test/bar/']);
  });

  it('ListMultipartUploads with encoding-type=url encodes keys; a bad encoding-type is InvalidArgument', async () => {
    await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'enc/a b+c' }));
    const r = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'enc/', EncodingType: 'url' }));
    assert.equal(r.EncodingType, 'url');
    assert.deepEqual(r.Uploads!.map((u) => u.Key), ['enc/a+b%2Bc']);
    const e = await s3Error(() => s3.send(new ListMultipartUploadsCommand({ Bucket, EncodingType: 'value' as 'url' })));
    assert.equal(e.name, 'InvalidArgument');
    assert.equal(e.message, 'Invalid Encoding Method specified in Request');
    assert.equal(e.raw.ArgumentName, 'encoding-type');
  });
});
