import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand,
  RestoreObjectCommand, UploadPartCopyCommand, type S3Client,
} from '@aws-sdk/client-s3';
import type { RunningServer } from '../../src/index.js';
import { bucketName, liveServer, s3Error, testMeta } from '../helpers.js';
import { errorCode, raw } from './raw-signed.js';

/**
 * Archive storage classes and RestoreObject: an unrestored GLACIER or
 * DEEP_ARCHIVE object can be listed and HEADed but not read or copied
 * (recorded: test_s3_get_deep_archive_object_restore, test_put_object_storage_class;
 * the copy rule is the OBS cold-object rule); RestoreObject makes it readable.
 */
describe('RestoreObject', () => {
  const servers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of servers) await c();
  });

  async function setup(restoreDelayMs = 0): Promise<{ s3: S3Client; server: RunningServer; Bucket: string }> {
    const { s3, server, close } = await liveServer({ restoreDelayMs });
    servers.push(close);
    const Bucket = bucketName('rst');
    await s3.send(new CreateBucketCommand({ Bucket }));
    return { s3, server, Bucket };
  }
  const restore = (s3: S3Client, Bucket: string, Key: string, Days = 1) =>
    s3.send(new RestoreObjectCommand({ Bucket, Key, RestoreRequest: { Days, GlacierJobParameters: { Tier: 'Standard' } } }));

  async function expectColdCopies(s3: S3Client, Bucket: string, Key: string, StorageClass: string) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'dst' }));
    const part = await s3Error(() => s3.send(new UploadPartCopyCommand({ Bucket, Key: 'dst', UploadId, PartNumber: 1, CopySource: `${Bucket}/${Key}` })));
    const obj = await s3Error(() => s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/${Key}` })));
    for (const e of [part, obj]) {
      assert.equal(e.status, 403);
      assert.equal(e.name, 'InvalidObjectState');
      assert.equal(e.message, "Operation is not valid for the source object's storage class");
      assert.equal(e.raw.StorageClass, StorageClass);
    }
  }

  it('RestoreObject: an unrestored GLACIER object cannot be read or copied; restored, it can', async () => {
    const { s3, Bucket } = await setup();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cold', Body: 'body-test', StorageClass: 'GLACIER' }));
    const get = await s3Error(() => s3.send(new GetObjectCommand({ Bucket, Key: 'cold' })));
    assert.equal(get.status, 403);
    assert.equal(get.name, 'InvalidObjectState');
    assert.equal(get.message, "The operation is not valid for the object's storage class");
    assert.equal(get.raw.StorageClass, 'GLACIER');
    await expectColdCopies(s3, Bucket, 'cold', 'GLACIER');
    const before = await s3.send(new HeadObjectCommand({ Bucket, Key: 'cold' }));
    assert.equal(before.StorageClass, 'GLACIER');
    assert.equal(before.Restore, undefined);

    const r = await restore(s3, Bucket, 'cold');
    assert.equal(r.$metadata.httpStatusCode, 202);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'cold' }));
    assert.match(head.Restore!, /^ongoing-request="false", expiry-date="[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT"$/);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'cold' }))).Body!.transformToString(), 'body-test');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'dst' }));
    const part = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'dst', UploadId, PartNumber: 1, CopySource: `${Bucket}/cold`, CopySourceRange: 'bytes=0-3' }));
    assert.equal(part.CopyPartResult!.ETag, `"${createHash('md5').update('body').digest('hex')}"`);
    const copied = await s3.send(new CopyObjectCommand({ Bucket, Key: 'warm', CopySource: `${Bucket}/cold` }));
    assert.equal(copied.CopyObjectResult!.ETag, '"43ad557eaff4fdc42b9886b5a68147ab"');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'warm' }))).StorageClass, undefined);

    const again = await restore(s3, Bucket, 'cold', 3);
    assert.equal(again.$metadata.httpStatusCode, 200);
    const extended = await s3.send(new HeadObjectCommand({ Bucket, Key: 'cold' }));
    assert.ok(Date.parse(/expiry-date="([^"]+)"/.exec(extended.Restore!)![1]) > Date.parse(/expiry-date="([^"]+)"/.exec(head.Restore!)![1]));
  });

  it('RestoreObject of a restored object copied onto itself with a storage class makes it permanent', async () => {
    const { s3, Bucket } = await setup();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cold', Body: 'thaw me', StorageClass: 'DEEP_ARCHIVE' }));
    await restore(s3, Bucket, 'cold');
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'cold', CopySource: `${Bucket}/cold`, StorageClass: 'STANDARD' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'cold' }));
    assert.equal(head.StorageClass, undefined);
    assert.equal(head.Restore, undefined);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'cold' }))).Body!.transformToString(), 'thaw me');
  });

  it('RestoreObject with a delay: ongoing in x-amz-restore, copies refused and 409 on a second request until it completes', async () => {
    const { s3, Bucket } = await setup(400);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'deep', Body: 'deep data', StorageClass: 'DEEP_ARCHIVE' }));
    const r = await restore(s3, Bucket, 'deep');
    assert.equal(r.$metadata.httpStatusCode, 202);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'deep' }))).Restore, 'ongoing-request="true"');
    await expectColdCopies(s3, Bucket, 'deep', 'DEEP_ARCHIVE');
    const busy = await s3Error(() => restore(s3, Bucket, 'deep'));
    assert.equal(busy.status, 409);
    assert.equal(busy.name, 'RestoreAlreadyInProgress');
    await new Promise((ok) => setTimeout(ok, 700));
    assert.match((await s3.send(new HeadObjectCommand({ Bucket, Key: 'deep' }))).Restore!, /^ongoing-request="false", expiry-date=/);
    const copied = await s3.send(new CopyObjectCommand({ Bucket, Key: 'out', CopySource: `${Bucket}/deep` }));
    assert.ok(copied.CopyObjectResult!.ETag);
  });

  it('RestoreObject with a delay completes on time across a server restart: reads, HEAD and copies go by the clock', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-restore-'));
    const meta = await testMeta();
    const now = Date.now;
    try {
      const first = await liveServer({ dataDir, restoreDelayMs: 60_000, ...meta.options });
      const Bucket = bucketName('rst');
      try {
        await first.s3.send(new CreateBucketCommand({ Bucket }));
        await first.s3.send(new PutObjectCommand({ Bucket, Key: 'deep', Body: 'deep data', StorageClass: 'DEEP_ARCHIVE' }));
        assert.equal((await restore(first.s3, Bucket, 'deep')).$metadata.httpStatusCode, 202);
      } finally {
        await first.close();
      }
      const { s3, close } = await liveServer({ dataDir, ...meta.options });
      try {
        assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'deep' }))).Restore, 'ongoing-request="true"');
        assert.equal((await s3Error(() => s3.send(new GetObjectCommand({ Bucket, Key: 'deep' })))).name, 'InvalidObjectState');
        // Two minutes on (within the signature's clock-skew allowance): the restore is done, though no timer survived.
        Date.now = () => now() + 120_000;
        assert.match((await s3.send(new HeadObjectCommand({ Bucket, Key: 'deep' }))).Restore!, /^ongoing-request="false", expiry-date=/);
        const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'deep' }));
        assert.equal(await got.Body!.transformToString(), 'deep data');
        const copied = await s3.send(new CopyObjectCommand({ Bucket, Key: 'out', CopySource: `${Bucket}/deep` }));
        assert.ok(copied.CopyObjectResult!.ETag);
        const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'dst' }));
        const part = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'dst', UploadId, PartNumber: 1, CopySource: `${Bucket}/deep` }));
        assert.equal(part.CopyPartResult!.ETag, `"${createHash('md5').update('deep data').digest('hex')}"`);
        assert.equal((await restore(s3, Bucket, 'deep', 2)).$metadata.httpStatusCode, 200, 'a restored object only gets a new expiry');
      } finally {
        Date.now = now;
        await close();
      }
    } finally {
      Date.now = now;
      rmSync(dataDir, { recursive: true, force: true });
      await meta.drop();
    }
  });

  it('RestoreObject of an object not in an archive class -> 403 InvalidObjectState; missing key -> NoSuchKey; bad body -> MalformedXML', async () => {
    const { s3, server, Bucket } = await setup();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'hot', Body: 'x' }));
    const e = await s3Error(() => restore(s3, Bucket, 'hot'));
    assert.equal(e.status, 403);
    assert.equal(e.name, 'InvalidObjectState');
    assert.equal(e.message, "Restore is not allowed for the object's current storage class");
    assert.equal((await s3Error(() => restore(s3, Bucket, 'missing'))).name, 'NoSuchKey');
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cold', Body: 'x', StorageClass: 'GLACIER' }));
    for (const body of ['', '<RestoreRequest><Days>0</Days></RestoreRequest>', '<RestoreRequest><Days>x</Days></RestoreRequest>', '<Nope/>', '<RestoreRequest>']) {
      const r = await raw(server, { method: 'POST', path: `/${Bucket}/cold`, query: { restore: '' }, body });
      assert.equal(r.status, 400, body);
      assert.equal(errorCode(r.body), 'MalformedXML', body);
    }
  });
});
