import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand, DeleteObjectCommand, DeleteObjectTaggingCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand,
  PutBucketTaggingCommand, PutBucketVersioningCommand, PutObjectCommand, PutObjectTaggingCommand, type S3Client, type Tag,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import type { RunningServer } from '../../src/index.js';
import { errorCode, raw, xmlField } from './raw-signed.js';

describe('object tagging', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const bucket = bucketName('tag');
  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'obj', Body: 'test-tagging' }));
  });
  after(() => close());

  const putTags = (TagSet: Tag[], Key = 'obj') => s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key, Tagging: { TagSet } }));

  it('PutObjectTagging, GetObjectTagging and DeleteObjectTagging round-trip; GET shows x-amz-tagging-count', async () => {
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj' }))).TagSet, []);
    const put = await putTags([{ Key: 'tag1', Value: 'tag1' }, { Key: 'tag2', Value: '' }]);
    assert.equal(put.$metadata.httpStatusCode, 200);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj' }))).TagSet, [{ Key: 'tag1', Value: 'tag1' }, { Key: 'tag2', Value: '' }]);
    await putTags([{ Key: 'tag3', Value: 'tag3' }]);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj' }))).TagSet, [{ Key: 'tag3', Value: 'tag3' }]);
    const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj' }));
    assert.equal(g.TagCount, 1);
    assert.equal(await g.Body!.transformToString(), 'test-tagging');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'obj' }))).TagCount, 1);
    const del = await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'obj' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj' }))).TagSet, []);
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj' }))).TagCount, undefined);
  });

  it('PutObjectTagging with an empty TagSet clears the tags', async () => {
    await putTags([{ Key: 'a', Value: 'b' }]);
    await putTags([]);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj' }))).TagSet, []);
  });

  it('Object tags: 10 are accepted, 11 is BadRequest', async () => {
    const ten = Array.from({ length: 10 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
    await putTags(ten);
    assert.equal((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj' }))).TagSet?.length, 10);
    const e = await s3Error(() => putTags([...ten, { Key: 'k10', Value: 'v10' }]));
    assert.equal(e.name, 'BadRequest');
    assert.equal(e.status, 400);
    assert.equal(e.message, 'Object tags cannot be greater than 10');
  });

  it('Tag keys up to 128 and values up to 256 characters are accepted; longer ones are InvalidTag', async () => {
    await putTags([{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }]);
    const longKey = await s3Error(() => putTags([{ Key: 'k'.repeat(129), Value: 'v' }]));
    assert.equal(longKey.name, 'InvalidTag');
    assert.equal(longKey.message, 'The TagKey you have provided is invalid');
    const longValue = await s3Error(() => putTags([{ Key: 'k', Value: 'v'.repeat(257) }]));
    assert.equal(longValue.name, 'InvalidTag');
    assert.equal(longValue.message, 'The TagValue you have provided is invalid');
    assert.equal(longValue.raw.TagKey, 'k');
  });

  it('Tags with characters outside letters, digits, spaces and + - = . _ : / @ are InvalidTag; unicode letters are fine', async () => {
    await putTags([{ Key: 'ünï cödé 名前 +-=._:/@', Value: 'wert 値 +-=._:/@' }]);
    const key = await s3Error(() => putTags([{ Key: 'Key1,Key2', Value: 'v' }]));
    assert.equal(key.name, 'InvalidTag');
    assert.equal(key.message, 'The TagKey you have provided is invalid');
    assert.equal(key.raw.TagKey, 'Key1,Key2');
    const value = await s3Error(() => putTags([{ Key: 'Key1', Value: 'Val1,Val2' }]));
    assert.equal(value.message, 'The TagValue you have provided is invalid');
    assert.equal(value.raw.TagKey, 'Key1');
    assert.equal(value.raw.TagValue, 'Val1,Val2');
  });

  it('Duplicate tag keys and aws: prefixed keys are InvalidTag with AWS messages', async () => {
    const dup = await s3Error(() => putTags([{ Key: 'Key1', Value: 'a' }, { Key: 'Key1', Value: 'b' }]));
    assert.equal(dup.name, 'InvalidTag');
    assert.equal(dup.message, 'Cannot provide multiple Tags with the same key');
    assert.equal(dup.raw.TagKey, 'Key1');
    const sys = await s3Error(() => putTags([{ Key: 'aws:prefixed', Value: 'a' }]));
    assert.equal(sys.message, 'Your TagKey cannot be prefixed with aws:');
    assert.equal(sys.raw.TagKey, 'aws:prefixed');
    const bucketSys = await s3Error(() => s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'aws:prefixed', Value: 'a' }] } })));
    assert.equal(bucketSys.name, 'InvalidTag');
    assert.equal(bucketSys.message, 'System tags cannot be added/updated by requester');
  });

  it('PutObjectTagging with a Tag missing its Key or Value, or broken XML, is MalformedXML', async () => {
    for (const body of [
      '<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>',
      '<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>',
      '<Tagging><TagSet><Tag><Key>k</Key>',
      'not xml at all',
    ]) {
      const r = await raw(server, { method: 'PUT', path: `/${bucket}/obj`, query: { tagging: '' }, body });
      assert.equal(r.status, 400, body);
      assert.equal(errorCode(r.body), 'MalformedXML', body);
      assert.equal(xmlField(r.body, 'Message'), 'The XML you provided was not well-formed or did not validate against our published schema');
    }
  });

  it('Tag values keep their leading and trailing spaces', async () => {
    const r = await raw(server, {
      method: 'PUT', path: `/${bucket}/obj`, query: { tagging: '' },
      body: '<Tagging>\n  <TagSet>\n    <Tag><Key> spaced key </Key><Value>  v  </Value></Tag>\n  </TagSet>\n</Tagging>',
    });
    assert.equal(r.status, 200);
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj' }))).TagSet, [{ Key: ' spaced key ', Value: '  v  ' }]);
  });

  it('Object tagging of a missing key is NoSuchKey (GetObjectTagging names it with its bucket, as AWS)', async () => {
    const g = await s3Error(() => s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'fake-key' })));
    assert.equal(g.name, 'NoSuchKey');
    assert.equal(g.raw.Key, `${bucket}/fake-key`);
    const p = await s3Error(() => putTags([{ Key: 'a', Value: 'b' }], 'fake-key'));
    assert.equal(p.name, 'NoSuchKey');
    assert.equal(p.raw.Key, 'fake-key');
    const d = await s3Error(() => s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'fake-key' })));
    assert.equal(d.name, 'NoSuchKey');
    assert.equal(d.raw.Key, 'fake-key');
    const nb = await s3Error(() => s3.send(new GetObjectTaggingCommand({ Bucket: bucketName('nob'), Key: 'k' })));
    assert.equal(nb.name, 'NoSuchBucket');
  });

  it('Object tagging of a delete marker, current or named by version id, is 405 MethodNotAllowed naming the method (recorded)', async () => {
    const Bucket = bucketName('tag-dm');
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    const TagSet = [{ Key: 'tag1', Value: 'tag1' }];
    for (const VersionId of [marker.VersionId, undefined]) {
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['PUT', () => s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'k', VersionId, Tagging: { TagSet } }))],
        ['GET', () => s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'k', VersionId }))],
        ['DELETE', () => s3.send(new DeleteObjectTaggingCommand({ Bucket, Key: 'k', VersionId }))],
      ];
      for (const [method, call] of calls) {
        const e = await s3Error(call);
        const what = `${method} ${VersionId ? 'by id' : 'latest'}`;
        assert.equal(e.status, 405, what);
        assert.equal(e.name, 'MethodNotAllowed', what);
        assert.equal(e.message, 'The specified method is not allowed against this resource.');
        assert.equal(e.raw.Method, method, what);
        assert.equal(e.raw.ResourceType, 'DeleteMarker', what);
      }
    }
  });

  it('PutObject x-amz-tagging with duplicate names or a bad format is InvalidArgument about the header', async () => {
    for (const Tagging of ['key1=val1&key1=val2', 'key1=val1,key2=val2']) {
      const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hdr', Body: 'x', Tagging })));
      assert.equal(e.name, 'InvalidArgument', Tagging);
      assert.equal(e.message, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.");
      assert.equal(e.raw.ArgumentName, 'x-amz-tagging');
      assert.equal(e.raw.ArgumentValue, Tagging);
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hdr', Body: '', Tagging: 'key1&&&key2' }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'hdr' }))).TagSet, [{ Key: 'key1', Value: '' }, { Key: 'key2', Value: '' }]);
  });

  it('Overwriting an object drops its tags', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ow', Body: 'create', Tagging: 'tag1=val1' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ow', Body: 'again' }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'ow' }))).TagSet, []);
  });
});
