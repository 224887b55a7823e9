import {
  CreateBucketCommand, DeleteBucketEncryptionCommand, GetBucketEncryptionCommand, GetObjectCommand, PutBucketEncryptionCommand,
  PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/index.js';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import { errorCode, raw, xmlField } from './raw-signed.js';

describe('bucket default encryption', () => {
  let server: RunningServer;
  let s3: S3Client;
  let close: () => Promise<void>;

  before(async () => {
    ({ server, s3, close } = await liveServer());
  });
  after(() => close());

  async function newBucket(): Promise<string> {
    const b = bucketName('enc');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    return b;
  }

  it('GetBucketEncryption without a rule answers ServerSideEncryptionConfigurationNotFoundError', async () => {
    const b = await newBucket();
    const e = await s3Error(() => s3.send(new GetBucketEncryptionCommand({ Bucket: b })));
    assert.equal(e.status, 404);
    assert.equal(e.name, 'ServerSideEncryptionConfigurationNotFoundError');
  });

  it('PutBucketEncryption, GetBucketEncryption and DeleteBucketEncryption round trip', async () => {
    const b = await newBucket();
    const put = await s3.send(new PutBucketEncryptionCommand({
      Bucket: b,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'some-key' }, BucketKeyEnabled: true }] },
    }));
    assert.equal(put.$metadata.httpStatusCode, 200);
    const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: b }));
    assert.deepEqual(got.ServerSideEncryptionConfiguration?.Rules, [
      { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'some-key' }, BucketKeyEnabled: true },
    ]);
    const del = await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.equal((await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
    assert.equal((await s3Error(() => s3.send(new GetBucketEncryptionCommand({ Bucket: b })))).status, 404);
  });

  it('PutBucketEncryption rejects what AWS rejects (recorded)', async () => {
    const b = await newBucket();
    const send = (xml: string) => raw(server, { method: 'PUT', path: `/${b}`, query: { encryption: '' }, body: xml, headers: { 'content-md5': createHash('md5').update(xml).digest('base64') } });
    const noRules = await send('<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></ServerSideEncryptionConfiguration>');
    assert.equal(noRules.status, 400);
    assert.equal(errorCode(noRules.body), 'MalformedXML');
    const rule = '<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>';
    const two = await send(`<ServerSideEncryptionConfiguration>${rule}${rule}</ServerSideEncryptionConfiguration>`);
    assert.equal(errorCode(two.body), 'MalformedXML');
    const kmsWithAes = await send('<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>');
    assert.equal(errorCode(kmsWithAes.body), 'InvalidArgument');
    assert.equal(xmlField(kmsWithAes.body, 'Message'), 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse');
    assert.equal(xmlField(kmsWithAes.body, 'ArgumentName'), 'ApplyServerSideEncryptionByDefault');
  });

  it('bucket encryption operations on a missing bucket answer NoSuchBucket', async () => {
    const e = await s3Error(() => s3.send(new GetBucketEncryptionCommand({ Bucket: bucketName('missing') })));
    assert.equal(e.name, 'NoSuchBucket');
  });

  it('PutObject without encryption headers follows the bucket default; its own headers win', async () => {
    const b = await newBucket();
    await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
    const r = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'test-encrypted' }));
    assert.equal(r.ServerSideEncryption, 'AES256');
    assert.equal(r.ETag, `"${createHash('md5').update('test-encrypted').digest('hex')}"`);
    const g = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(g.ServerSideEncryption, 'AES256');
    assert.equal(await g.Body!.transformToString(), 'test-encrypted');
    const kms = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k2', Body: 'x', ServerSideEncryption: 'aws:kms' }));
    assert.equal(kms.ServerSideEncryption, 'aws:kms');

    await s3.send(new PutBucketEncryptionCommand({ Bucket: b, ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' }, BucketKeyEnabled: true }] } }));
    const k = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k3', Body: 'test-sse' }));
    assert.equal(k.ServerSideEncryption, 'aws:kms');
    assert.equal(k.BucketKeyEnabled, true);
    assert.match(k.SSEKMSKeyId!, /^arn:aws:kms:us-east-1:\d{12}:key\//);
    const before = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(before.ServerSideEncryption, 'AES256', 'objects keep the encryption they were written with');
  });
});
