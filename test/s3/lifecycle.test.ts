import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketLifecycleCommand, GetBucketLifecycleConfigurationCommand,
  ListMultipartUploadsCommand, PutBucketLifecycleConfigurationCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';

const DAY = 24 * 60 * 60 * 1000;

describe('Bucket lifecycle', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('lc');

  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(() => close());

  it('GetBucketLifecycleConfiguration without one is NoSuchLifecycleConfiguration', async () => {
    const e = await s3Error(() => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })));
    assert.equal(e.status, 404);
    assert.equal(e.name, 'NoSuchLifecycleConfiguration');
    assert.equal(e.raw.BucketName, Bucket);
  });

  it('PutBucketLifecycleConfiguration stores the rules; Get returns them; Delete removes them', async () => {
    const put = await s3.send(new PutBucketLifecycleConfigurationCommand({
      Bucket,
      LifecycleConfiguration: { Rules: [{ ID: 'wholebucket', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 7 } }] },
    }));
    assert.equal(put.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }));
    assert.deepEqual(got.Rules, [{ ID: 'wholebucket', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 7 } }]);
    assert.equal(got.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
    const del = await s3.send(new DeleteBucketLifecycleCommand({ Bucket }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    const e = await s3Error(() => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })));
    assert.equal(e.name, 'NoSuchLifecycleConfiguration');
  });

  it('PutBucketLifecycleConfiguration refuses what AWS refuses', async () => {
    const put = (Rules: any[]) => s3Error(() => s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } })));
    let e = await put([{ ID: 'x', Status: 'Enabled', Expiration: { Days: 1 } }]);
    assert.equal(e.name, 'MalformedXML');
    e = await put([{ ID: 'x', Status: 'Enabled', Filter: { Prefix: 'a', ObjectSizeGreaterThan: 10 }, Expiration: { Days: 1 } }]);
    assert.equal(e.name, 'MalformedXML');
    e = await put([{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 1, ExpiredObjectDeleteMarker: true } }]);
    assert.equal(e.name, 'MalformedXML');
    e = await put([{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Date: new Date('2030-01-01T10:00:00Z') } }]);
    assert.equal(e.name, 'InvalidArgument');
    assert.equal(e.message, "'Date' must be at midnight GMT");
    assert.equal(e.raw.ArgumentName, 'Date');
    e = await put([{ ID: 'x', Status: 'Enabled', Filter: { And: { Prefix: 'a', Tags: [{ Key: 'k', Value: '1' }, { Key: 'k', Value: '2' }] } }, Expiration: { Days: 1 } }]);
    assert.equal(e.name, 'InvalidRequest');
    assert.equal(e.message, 'Duplicate Tag Keys are not allowed.');
    e = await put([{ ID: 'x', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 0 } }]);
    assert.equal(e.name, 'InvalidArgument');
  });

  it('AbortIncompleteMultipartUpload aborts stale uploads under its prefix when the job runs', async () => {
    await s3.send(new PutBucketLifecycleConfigurationCommand({
      Bucket,
      LifecycleConfiguration: { Rules: [{ ID: 'mpu', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } }] },
    }));
    const stale = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'tmp/a' }));
    await s3.send(new UploadPartCommand({ Bucket, Key: 'tmp/a', UploadId: stale.UploadId, PartNumber: 1, Body: Buffer.alloc(100 * 1024, 1) }));
    const kept = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'keep/b' }));
    const keys = async () => ((await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? []).map((u) => u.UploadId);

    await server.jobs.runNow();
    assert.deepEqual(await keys(), [kept.UploadId, stale.UploadId]);
    // One day on: not yet stale.
    await server.jobs.runNow({ now: Date.now() + DAY });
    assert.deepEqual(await keys(), [kept.UploadId, stale.UploadId]);
    // Three days on (past the second midnight): the upload under tmp/ and its part are gone.
    const r = await server.jobs.runNow({ now: Date.now() + 3 * DAY, graceMs: 0 });
    assert.deepEqual(await keys(), [kept.UploadId]);
    assert.ok(r.collected >= 1);
    const e = await s3Error(() => s3.send(new UploadPartCommand({ Bucket, Key: 'tmp/a', UploadId: stale.UploadId, PartNumber: 2, Body: 'x' })));
    assert.equal(e.name, 'NoSuchUpload');
  });
});
