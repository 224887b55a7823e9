import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand, DeleteBucketCommand, GetBucketLocationCommand, HeadBucketCommand, ListBucketsCommand,
  PutObjectCommand, DeleteObjectCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, PutBucketVersioningCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { errorCode, raw, xmlField } from './raw-signed.js';

describe('buckets', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  before(async () => ({ s3, server, close } = await liveServer()));
  after(() => close());

  it('CreateBucket then HeadBucket, GetBucketLocation and ListBuckets show it', async () => {
    const name = bucketName();
    const created = await s3.send(new CreateBucketCommand({ Bucket: name }));
    assert.equal(created.Location, `/${name}`);
    assert.equal(created.BucketArn, `arn:aws:s3:::${name}`);
    const head = await s3.send(new HeadBucketCommand({ Bucket: name }));
    assert.equal(head.BucketRegion, 'us-east-1');
    assert.equal(head.AccessPointAlias, false);
    assert.equal(head.BucketArn, `arn:aws:s3:::${name}`);
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: name }));
    assert.equal(loc.LocationConstraint, undefined);
    const list = await s3.send(new ListBucketsCommand({}));
    const mine = list.Buckets?.find((b) => b.Name === name);
    assert.ok(mine, 'bucket listed');
    assert.ok(mine.CreationDate instanceof Date && Math.abs(mine.CreationDate.getTime() - Date.now()) < 60_000);
    assert.equal(mine.BucketArn, `arn:aws:s3:::${name}`);
    assert.equal(list.Owner?.ID, server.deps.config.rootCanonicalId);
  });

  it('CreateBucket refuses invalid names with InvalidBucketName', async () => {
    const bad = ['UPPERCASE-bucket', 'ab', 'a'.repeat(64), 'under_score', '192.168.5.4', '-starts-dash', 'ends-dash-', 'two..dots', 'dot.-dash', 'xn--punycode', 'name-s3alias'];
    for (const name of bad) {
      const e = await s3Error(() => s3.send(new CreateBucketCommand({ Bucket: name })));
      assert.equal(e.name, 'InvalidBucketName', name);
      assert.equal(e.status, 400, name);
      assert.equal(e.message, 'The specified bucket is not valid.');
      assert.equal(e.raw.BucketName, name);
    }
    for (const name of ['abc', 'a'.repeat(63), 'with.dots.ok', '0-digits-1']) {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      await s3.send(new DeleteBucketCommand({ Bucket: name }));
    }
  });

  it('CreateBucket twice in us-east-1 succeeds for the owner, as AWS does', async () => {
    const name = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    const again = await s3.send(new CreateBucketCommand({ Bucket: name }));
    assert.equal(again.$metadata.httpStatusCode, 200);
  });

  it('CreateBucket of an owned bucket in another region is BucketAlreadyOwnedByYou', async () => {
    const name = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: 'us-west-1' } }));
    for (const lc of ['us-west-1', 'us-east-2'] as const) {
      const e = await s3Error(() => s3.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: lc } })));
      assert.equal(e.name, 'BucketAlreadyOwnedByYou');
      assert.equal(e.status, 409);
      assert.equal(e.message, 'Your previous request to create the named bucket succeeded and you already own it.');
      assert.equal(e.raw.BucketName, name);
    }
  });

  it('CreateBucket with a LocationConstraint records the region', async () => {
    const name = bucketName();
    const created = await s3.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    assert.match(created.Location ?? '', new RegExp(`^http://${name}\\.`));
    assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: name }))).LocationConstraint, 'eu-west-1');
    assert.equal((await s3.send(new HeadBucketCommand({ Bucket: name }))).BucketRegion, 'eu-west-1');
    const eu = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: eu, CreateBucketConfiguration: { LocationConstraint: 'EU' } }));
    assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: eu }))).LocationConstraint, 'EU');
  });

  it('CreateBucket with LocationConstraint us-east-1 or an unknown one is InvalidLocationConstraint', async () => {
    for (const lc of ['us-east-1', 'foo', 'aws-global']) {
      const e = await s3Error(() => s3.send(new CreateBucketCommand({ Bucket: bucketName(), CreateBucketConfiguration: { LocationConstraint: lc as any } })));
      assert.equal(e.name, 'InvalidLocationConstraint', lc);
      assert.equal(e.status, 400);
      assert.equal(e.message, 'The specified location-constraint is not valid');
      assert.equal(e.raw.LocationConstraint, lc);
    }
  });

  it('CreateBucket with a malformed configuration body is MalformedXML', async () => {
    const r = await raw(server, { method: 'PUT', path: `/${bucketName()}`, body: '<CreateBucketConfiguration><LocationConstraint>' });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'MalformedXML');
  });

  it('HeadBucket and GetBucketLocation of a missing bucket are 404 NoSuchBucket', async () => {
    const name = bucketName('missing');
    const head = await s3Error(() => s3.send(new HeadBucketCommand({ Bucket: name })));
    assert.equal(head.status, 404);
    assert.equal(head.name, 'NotFound');
    const loc = await s3Error(() => s3.send(new GetBucketLocationCommand({ Bucket: name })));
    assert.equal(loc.name, 'NoSuchBucket');
    assert.equal(loc.status, 404);
    assert.equal(loc.message, 'The specified bucket does not exist');
    assert.equal(loc.raw.BucketName, name);
  });

  it('DeleteBucket of a missing bucket is NoSuchBucket', async () => {
    const name = bucketName('missing');
    const e = await s3Error(() => s3.send(new DeleteBucketCommand({ Bucket: name })));
    assert.equal(e.name, 'NoSuchBucket');
    assert.equal(e.status, 404);
    assert.equal(e.raw.BucketName, name);
  });

  it('DeleteBucket of a versioned bucket with versions or only a delete marker: BucketNotEmpty asking to delete all versions (recorded)', async () => {
    const name = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
    const put = await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
    for (const what of ['object and delete marker', 'only a delete marker']) {
      const e = await s3Error(() => s3.send(new DeleteBucketCommand({ Bucket: name })));
      assert.equal(e.name, 'BucketNotEmpty', what);
      assert.equal(e.status, 409);
      assert.equal(e.message, 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.');
      assert.equal(e.raw.BucketName, name);
      await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: put.VersionId }));
    }
    await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k', VersionId: marker.VersionId }));
    assert.equal((await s3.send(new DeleteBucketCommand({ Bucket: name }))).$metadata.httpStatusCode, 204);
  });

  it('DeleteBucket of a bucket with an object is BucketNotEmpty; with only uploads in progress it succeeds and the uploads go with it', async () => {
    const name = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'x' }));
    const e = await s3Error(() => s3.send(new DeleteBucketCommand({ Bucket: name })));
    assert.equal(e.name, 'BucketNotEmpty');
    assert.equal(e.status, 409);
    assert.equal(e.message, 'The bucket you tried to delete is not empty');
    assert.equal(e.raw.BucketName, name);
    await s3.send(new DeleteObjectCommand({ Bucket: name, Key: 'k' }));
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: name, Key: 'm' }));
    await s3.send(new UploadPartCommand({ Bucket: name, Key: 'm', UploadId: up.UploadId, PartNumber: 1, Body: Buffer.alloc(100_000, 1) }));
    const del = await s3.send(new DeleteBucketCommand({ Bucket: name }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.equal((await s3Error(() => s3.send(new HeadBucketCommand({ Bucket: name })))).status, 404);
    // A bucket of the same name created later does not see the upload, and the upload is gone for good.
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: name }))).Uploads ?? [], []);
    assert.equal((await s3Error(() => s3.send(new UploadPartCommand({ Bucket: name, Key: 'm', UploadId: up.UploadId, PartNumber: 2, Body: 'x' })))).name, 'NoSuchUpload');
    await s3.send(new DeleteBucketCommand({ Bucket: name }));
  });

  it('ListBuckets pages with max-buckets and continuation-token, filters by prefix', async () => {
    const prefix = bucketName('pg');
    const names = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    for (const n of names) await s3.send(new CreateBucketCommand({ Bucket: n }));
    const first = await s3.send(new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 2 }));
    assert.deepEqual(first.Buckets?.map((b) => b.Name), names.slice(0, 2));
    assert.equal(first.Prefix, prefix);
    assert.ok(first.ContinuationToken);
    const second = await s3.send(new ListBucketsCommand({ Prefix: prefix, MaxBuckets: 2, ContinuationToken: first.ContinuationToken }));
    assert.deepEqual(second.Buckets?.map((b) => b.Name), names.slice(2));
    assert.equal(second.ContinuationToken, undefined);
  });

  it('ListBuckets answers XML with the owner and x-amz-request-id', async () => {
    const r = await raw(server, { method: 'GET', path: '/' });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /xml/);
    assert.ok(r.headers['x-amz-request-id']);
    assert.equal(xmlField(r.body, 'ID'), server.deps.config.rootCanonicalId);
  });
});

describe('buckets on an endpoint outside us-east-1', () => {
  let s3: S3Client;
  let close: () => Promise<void>;
  before(async () => ({ s3, close } = await liveServer({ region: 'eu-central-1' })));
  after(() => close());

  it('CreateBucket without a constraint is IllegalLocationConstraintException', async () => {
    const e = await s3Error(() => s3.send(new CreateBucketCommand({ Bucket: bucketName() })));
    assert.equal(e.name, 'IllegalLocationConstraintException');
    assert.equal(e.status, 400);
    assert.equal(e.message, 'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.');
  });

  it('CreateBucket with another region is IllegalLocationConstraintException naming it', async () => {
    const e = await s3Error(() => s3.send(new CreateBucketCommand({ Bucket: bucketName(), CreateBucketConfiguration: { LocationConstraint: 'us-west-1' } })));
    assert.equal(e.name, 'IllegalLocationConstraintException');
    assert.equal(e.message, 'The us-west-1 location constraint is incompatible for the region specific endpoint this request was sent to.');
  });

  it('CreateBucket with the endpoint region succeeds and twice is BucketAlreadyOwnedByYou', async () => {
    const name = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }));
    assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: name }))).LocationConstraint, 'eu-central-1');
    const e = await s3Error(() => s3.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } })));
    assert.equal(e.name, 'BucketAlreadyOwnedByYou');
  });
});
