import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand,
  PutBucketVersioningCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import { raw, xmlField } from './raw-signed.js';
import type { RunningServer } from '../../src/index.js';

let server: RunningServer;
let s3: S3Client;
let close: () => Promise<void>;

before(async () => {
  ({ server, s3, close } = await liveServer());
});
after(() => close());

async function bucket(opts: { versioned?: boolean; keys?: string[] } = {}): Promise<string> {
  const b = bucketName('del');
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  if (opts.versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  for (const k of opts.keys ?? []) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: 'body of ' + k }));
  return b;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
const deleteXml = (keys: string[]) => `<Delete>${keys.map((k) => `<Object><Key>${escape(k)}</Key></Object>`).join('')}</Delete>`;
const md5 = (s: string) => createHash('md5').update(s).digest('base64');

describe('DeleteObjects', () => {
  it('DeleteObjects removes existing and missing keys alike, in request order', async () => {
    const b = await bucket({ keys: ['test-delete', 'keep'] });
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'c-wrong-key' }, { Key: 'test-delete' }, { Key: 'a-wrong-key' }] } }));
    assert.deepEqual(r.Deleted, [{ Key: 'c-wrong-key' }, { Key: 'test-delete' }, { Key: 'a-wrong-key' }]);
    assert.equal(r.Errors, undefined);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    assert.deepEqual(left.Contents?.map((c) => c.Key), ['keep']);
  });

  it('DeleteObjects Quiet answers only errors (recorded)', async () => {
    const b = await bucket({ keys: ['test-key-nonexistent'] });
    const r = await s3.send(new DeleteObjectsCommand({
      Bucket: b, Delete: { Quiet: true, Objects: [{ Key: 'test-key-nonexistent' }, { Key: 'dummy1' }, { Key: 'other', VersionId: 'HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD' }] },
    }));
    assert.equal(r.Deleted, undefined);
    assert.deepEqual(r.Errors, [{ Key: 'other', VersionId: 'HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD', Code: 'NoSuchVersion', Message: 'The specified version does not exist.' }]);
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount, 0);
  });

  it('DeleteObjects with a version id on an unversioned bucket is NoSuchVersion for that key; null deletes (recorded)', async () => {
    const b = await bucket({ keys: ['test-delete', 'n'] });
    const r = await s3.send(new DeleteObjectsCommand({
      Bucket: b, Delete: { Objects: [{ Key: 'test-delete', VersionId: 'HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD' }, { Key: 'n', VersionId: 'null' }] },
    }));
    assert.deepEqual(r.Errors, [{ Key: 'test-delete', VersionId: 'HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD', Code: 'NoSuchVersion', Message: 'The specified version does not exist.' }]);
    assert.deepEqual(r.Deleted, [{ Key: 'n', VersionId: 'null' }]);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    assert.deepEqual(left.Contents?.map((c) => c.Key), ['test-delete']);
  });

  it('DeleteObjects keeps keys exactly: spaces, entities, unicode, carriage returns', async () => {
    const keys = [' lead', 'trail ', 'a & b', '<x>', 'ünï/😀', 'cr\rkey', '%2F', 'a+b'];
    const b = await bucket({ keys: [...keys, 'keep'] });
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    assert.deepEqual(r.Deleted?.map((d) => d.Key), keys);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    assert.deepEqual(left.Contents?.map((c) => c.Key), ['keep']);
  });

  it('DeleteObjects takes 1000 keys and refuses 1001 with MalformedXML', async () => {
    const b = await bucket({ keys: ['k-0001'] });
    const objects = Array.from({ length: 1001 }, (_, i) => ({ Key: `k-${String(i).padStart(4, '0')}` }));
    const e = await s3Error(() => s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: objects } })));
    assert.equal(e.status, 400);
    assert.equal(e.name, 'MalformedXML');
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount, 1);
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: objects.slice(0, 1000), Quiet: true } }));
    assert.equal(r.Errors, undefined);
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount, 0);
  });

  it('DeleteObjects requires Content-MD5 or a checksum, and checks it', async () => {
    const b = await bucket({ keys: ['k'] });
    const body = deleteXml(['k']);
    const none = await raw(server, { method: 'POST', path: `/${b}`, query: { delete: '' }, body });
    assert.equal(none.status, 400);
    assert.equal(xmlField(none.body, 'Code'), 'InvalidRequest');
    assert.equal(xmlField(none.body, 'Message'), 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
    const badMd5 = await raw(server, { method: 'POST', path: `/${b}`, query: { delete: '' }, body, headers: { 'content-md5': md5('other') } });
    assert.equal(badMd5.status, 400);
    assert.equal(xmlField(badMd5.body, 'Code'), 'BadDigest');
    const badCrc = await raw(server, { method: 'POST', path: `/${b}`, query: { delete: '' }, body, headers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
    assert.equal(badCrc.status, 400);
    assert.equal(xmlField(badCrc.body, 'Code'), 'BadDigest');
    await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    const ok = await raw(server, { method: 'POST', path: `/${b}`, query: { delete: '' }, body, headers: { 'content-md5': md5(body) } });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<DeleteResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><Deleted><Key>k<\/Key><\/Deleted><\/DeleteResult>$/);
  });

  it('DeleteObjects refuses malformed documents with MalformedXML', async () => {
    const b = await bucket();
    for (const body of ['<Delete></Delete>', '<Delete><Object></Object></Delete>', '<Delete><Object><Key>a</Key>', '<Other><Object><Key>a</Key></Object></Other>',
      '<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>', '<Delete><Object><Key>&bogus;</Key></Object></Delete>']) {
      const r = await raw(server, { method: 'POST', path: `/${b}`, query: { delete: '' }, body, headers: { 'content-md5': md5(body) } });
      assert.equal(r.status, 400, body);
      assert.equal(xmlField(r.body, 'Code'), 'MalformedXML', body);
    }
  });

  it('DeleteObjects in a versioned bucket adds delete markers and removes given versions (recorded)', async () => {
    const b = await bucket({ versioned: true });
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'test-delete', Body: 'test-delete' }));
    const r1 = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'test-delete' }, { Key: 'wrongkey' }] } }));
    assert.equal(r1.Deleted?.length, 2);
    for (const d of r1.Deleted!) {
      assert.equal(d.DeleteMarker, true);
      assert.match(d.DeleteMarkerVersionId!, /^[A-Za-z0-9._]{32}$/);
      assert.equal(d.VersionId, undefined);
    }
    const markerId = r1.Deleted![0].DeleteMarkerVersionId!;
    const r2 = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'test-delete', VersionId: markerId }] } }));
    assert.deepEqual(r2.Deleted, [{ Key: 'test-delete', VersionId: markerId, DeleteMarker: true, DeleteMarkerVersionId: markerId }]);
    const r3 = await s3.send(new DeleteObjectsCommand({
      Bucket: b, Delete: { Objects: [{ Key: 'test-delete', VersionId: 'HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD' }, { Key: 'wrong-key-2', VersionId: 'HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD' }] },
    }));
    assert.deepEqual(r3.Errors?.map((e) => [e.Key, e.Code, e.VersionId]), [
      ['test-delete', 'NoSuchVersion', 'HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD'], ['wrong-key-2', 'NoSuchVersion', 'HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD'],
    ]);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'test-delete' }));
    assert.equal(got.VersionId, put.VersionId);
    const r4 = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'test-delete', VersionId: put.VersionId }] } }));
    assert.deepEqual(r4.Deleted, [{ Key: 'test-delete', VersionId: put.VersionId }]);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.equal(versions.Versions, undefined);
    assert.deepEqual(versions.DeleteMarkers?.map((m) => m.Key), ['wrongkey']);
  });

  it('DeleteObjects in a suspended bucket makes null delete markers', async () => {
    const b = await bucket({ versioned: true });
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v1' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'k' }] } }));
    assert.deepEqual(r.Deleted, [{ Key: 'k', DeleteMarker: true, DeleteMarkerVersionId: 'null' }]);
    const d = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: 'null' }));
    assert.equal(d.DeleteMarker, true);
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).Body !== undefined, true);
  });
});
