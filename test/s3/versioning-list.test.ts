import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand,
  type ListObjectVersionsCommandOutput, type S3Client,
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

async function versionedBucket(): Promise<string> {
  const b = bucketName('lov');
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  return b;
}

const put = async (b: string, k: string, body = 'content 123') => (await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: body }))).VersionId!;
const list = (b: string, extra: Record<string, unknown> = {}) => s3.send(new ListObjectVersionsCommand({ Bucket: b, ...extra }));

/** Versions and delete markers of a page as `key@id` (`*` when latest), markers prefixed with `DM:`. */
function shape(r: ListObjectVersionsCommandOutput, names: Map<string, string>) {
  const id = (v?: string) => names.get(v!) ?? v;
  return {
    versions: (r.Versions ?? []).map((v) => `${v.Key}@${id(v.VersionId)}${v.IsLatest ? '*' : ''}`),
    markers: (r.DeleteMarkers ?? []).map((v) => `${v.Key}@${id(v.VersionId)}${v.IsLatest ? '*' : ''}`),
    prefixes: (r.CommonPrefixes ?? []).map((p) => p.Prefix),
    truncated: r.IsTruncated,
    next: [r.NextKeyMarker, id(r.NextVersionIdMarker)],
  };
}

describe('ListObjectVersions', () => {
  it('ListObjectVersions orders versions and markers and pages by key and version markers (recorded)', async () => {
    const b = await versionedBucket();
    const keys = ['test_0', 'test_1', 'test_2'];
    const ids: string[] = [];
    for (const k of keys) ids.push(await put(b, k, 'version 1'));
    ids.push(await put(b, 'test_2', 'version 2'));
    for (const k of keys) ids.push((await s3.send(new DeleteObjectCommand({ Bucket: b, Key: k }))).VersionId!);
    for (const k of keys.slice(0, 2)) ids.push(await put(b, k, 'version 2'));
    const names = new Map(ids.map((id, i) => [id, `v${i + 1}`]));

    const all = await list(b);
    assert.deepEqual(shape(all, names), {
      versions: ['test_0@v8*', 'test_0@v1', 'test_1@v9*', 'test_1@v2', 'test_2@v4', 'test_2@v3'],
      markers: ['test_0@v5', 'test_1@v6', 'test_2@v7*'], prefixes: [], truncated: false, next: [undefined, undefined],
    });
    assert.equal(all.KeyMarker, '');
    assert.equal(all.VersionIdMarker, '');
    assert.equal(all.MaxKeys, 1000);
    assert.equal(all.Versions![0].ETag, '"d4ca1ed7571e2e7b1f1c375bd50fa220"');
    assert.equal(all.Versions![0].Size, 9);
    assert.equal(all.Versions![0].Owner?.ID, server.deps.config.rootCanonicalId);
    assert.equal(all.DeleteMarkers![0].Owner?.ID, server.deps.config.rootCanonicalId);

    const five = await list(b, { MaxKeys: 5 });
    assert.deepEqual(shape(five, names), {
      versions: ['test_0@v8*', 'test_0@v1', 'test_1@v9*'], markers: ['test_0@v5', 'test_1@v6'], prefixes: [], truncated: true, next: ['test_1', 'v6'],
    });
    assert.deepEqual(shape(await list(b, { MaxKeys: 1, KeyMarker: 'test_1' }), names), {
      versions: [], markers: ['test_2@v7*'], prefixes: [], truncated: true, next: ['test_2', 'v7'],
    });
    const lastKey = await list(b, { MaxKeys: 1, KeyMarker: 'test_2' });
    assert.deepEqual(shape(lastKey, names), { versions: [], markers: [], prefixes: [], truncated: false, next: [undefined, undefined] });
    const onlyVersion = await s3Error(() => list(b, { MaxKeys: 1, VersionIdMarker: five.NextVersionIdMarker }));
    assert.equal(onlyVersion.status, 400);
    assert.equal(onlyVersion.name, 'InvalidArgument');
    assert.equal(onlyVersion.message, 'A version-id marker cannot be specified without a key marker.');
    assert.equal(onlyVersion.raw.ArgumentName, 'version-id-marker');
    assert.equal(onlyVersion.raw.ArgumentValue, five.NextVersionIdMarker);
    const both = await list(b, { MaxKeys: 1, KeyMarker: five.NextKeyMarker, VersionIdMarker: five.NextVersionIdMarker });
    assert.deepEqual(shape(both, names), { versions: ['test_1@v2'], markers: [], prefixes: [], truncated: true, next: ['test_1', 'v2'] });
    assert.equal(both.VersionIdMarker, five.NextVersionIdMarker);
    const lastVersion = await list(b, { MaxKeys: 1, KeyMarker: 'test_2', VersionIdMarker: ids[3] });
    assert.deepEqual(shape(lastVersion, names), { versions: ['test_2@v3'], markers: [], prefixes: [], truncated: false, next: [undefined, undefined] });
    const negative = await s3Error(() => list(b, { MaxKeys: -1 }));
    assert.equal(negative.name, 'InvalidArgument');
    assert.equal(negative.message, 'max-keys cannot be negative');
    const none = await list(b, { MaxKeys: 0 });
    assert.deepEqual(shape(none, names), { versions: [], markers: [], prefixes: [], truncated: false, next: [undefined, undefined] });
    const emptyMarker = await list(b, { MaxKeys: 1, KeyMarker: '' });
    assert.deepEqual(shape(emptyMarker, names), { versions: ['test_0@v8*'], markers: [], prefixes: [], truncated: true, next: ['test_0', 'v8'] });
    assert.equal(emptyMarker.KeyMarker, '');
  });

  it('ListObjectVersions pages over CommonPrefixes, a key-marker inside one skips it (recorded)', async () => {
    const b = await versionedBucket();
    const keys = ['folder/aSubfolder/subFile1', 'folder/aSubfolder/subFile2', 'folder/file1', 'folder/file2'];
    const ids = [];
    for (const k of keys) ids.push(await put(b, k));
    const names = new Map(ids.map((id, i) => [id, `v${i + 1}`]));
    const q = { Prefix: 'folder/', Delimiter: '/', MaxKeys: 1 };
    const start = await list(b, q);
    assert.deepEqual(shape(start, names), { versions: [], markers: [], prefixes: ['folder/aSubfolder/'], truncated: true, next: ['folder/aSubfolder/', undefined] });
    const next = await list(b, { ...q, KeyMarker: start.NextKeyMarker });
    assert.deepEqual(shape(next, names), { versions: ['folder/file1@v3*'], markers: [], prefixes: [], truncated: true, next: ['folder/file1', 'v3'] });
    const end = await list(b, { ...q, KeyMarker: next.NextKeyMarker });
    assert.deepEqual(shape(end, names), { versions: ['folder/file2@v4*'], markers: [], prefixes: [], truncated: false, next: [undefined, undefined] });
    const manual = await list(b, { ...q, KeyMarker: 'folder/aSubfolder/subFile1' });
    assert.deepEqual(shape(manual, names).versions, ['folder/file1@v3*']);
  });

  it('ListObjectVersions with prefix and delimiter (recorded)', async () => {
    const b = await versionedBucket();
    const ids = [await put(b, 'dir/test', 'content key1-v1'), await put(b, 'dir/test', 'content key-1v2'),
      await put(b, 'dir/subdir/test2', 'content key2-v1'), await put(b, 'dir/subdir/test2', 'content key2-v2')];
    const names = new Map(ids.map((id, i) => [id, `v${i + 1}`]));
    const cases: Array<[string, string[], string[]]> = [
      ['dir/', ['dir/test@v2*', 'dir/test@v1'], ['dir/subdir/']],
      ['dir/s', [], ['dir/subdir/']],
      ['dir/test', ['dir/test@v2*', 'dir/test@v1'], []],
      ['dir/subdir', [], ['dir/subdir/']],
      ['dir/subdir/', ['dir/subdir/test2@v4*', 'dir/subdir/test2@v3'], []],
    ];
    for (const [Prefix, versions, prefixes] of cases) {
      const r = shape(await list(b, { Prefix, Delimiter: '/' }), names);
      assert.deepEqual([r.versions, r.prefixes], [versions, prefixes], Prefix);
    }
    const rawList = await raw(server, { method: 'GET', path: `/${b}`, query: { versions: '', prefix: 'dir/subdir', delimiter: '/' } });
    assert.equal(rawList.status, 200);
    assert.match(rawList.body, /<ListVersionsResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><Name>[^<]+<\/Name><Prefix>dir\/subdir<\/Prefix><KeyMarker><\/KeyMarker><VersionIdMarker><\/VersionIdMarker>/);
    assert.match(rawList.body, /<CommonPrefixes><Prefix>dir\/subdir\/<\/Prefix><\/CommonPrefixes><\/ListVersionsResult>$/);
    assert.doesNotMatch(rawList.body, /EncodingType/);
    const rawAll = await raw(server, { method: 'GET', path: `/${b}`, query: { versions: '', prefix: 'dir/test' } });
    assert.match(rawAll.body, /<Version><Key>dir\/test<\/Key><VersionId>[A-Za-z0-9._]{32}<\/VersionId><IsLatest>true<\/IsLatest><LastModified>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z<\/LastModified>/);
  });

  it('ListObjectVersions resumes after a version-id marker whose page was deleted (recorded)', async () => {
    const b = await versionedBucket();
    for (let i = 0; i < 5; i++) await put(b, 'prefixed_key', `v${i}`);
    await put(b, 'non_prefixed_key');
    const full = await list(b, { Prefix: 'prefix' });
    assert.equal(full.Versions?.length, 5);
    const page1 = await list(b, { Prefix: 'prefix', MaxKeys: 3 });
    assert.equal(page1.IsTruncated, true);
    assert.equal(page1.NextKeyMarker, 'prefixed_key');
    assert.equal(page1.NextVersionIdMarker, full.Versions![2].VersionId);
    const keyOnly = await list(b, { Prefix: 'prefix', MaxKeys: 4, KeyMarker: 'prefixed_key' });
    assert.equal(keyOnly.Versions, undefined);
    assert.equal(keyOnly.IsTruncated, false);
    const page2 = await list(b, { Prefix: 'prefix', MaxKeys: 5, KeyMarker: 'prefixed_key', VersionIdMarker: page1.NextVersionIdMarker });
    assert.deepEqual(page2.Versions?.map((v) => [v.VersionId, v.IsLatest]), [[full.Versions![3].VersionId, false], [full.Versions![4].VersionId, false]]);
    const del = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: page1.Versions!.map((v) => ({ Key: v.Key, VersionId: v.VersionId })) } }));
    assert.equal(del.Deleted?.length, 3);
    const after = await list(b, { Prefix: 'prefix', MaxKeys: 5, KeyMarker: 'prefixed_key', VersionIdMarker: page1.NextVersionIdMarker });
    assert.deepEqual(after.Versions?.map((v) => [v.VersionId, v.IsLatest]), [[full.Versions![3].VersionId, true], [full.Versions![4].VersionId, false]]);
  });

  it('ListObjectVersions on a never-versioned bucket lists null versions (recorded)', async () => {
    const b = bucketName('lov');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const empty = await list(b);
    assert.equal(empty.Versions, undefined);
    assert.equal(empty.IsTruncated, false);
    for (const k of ['a-test-object-1', 'c-test-object-3', 'b-test-object-2']) await put(b, k);
    const r = await list(b);
    assert.deepEqual(r.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]), [
      ['a-test-object-1', 'null', true], ['b-test-object-2', 'null', true], ['c-test-object-3', 'null', true],
    ]);
  });

  it('ListObjectVersions encoding-type=url encodes keys and markers; other values are InvalidArgument (recorded)', async () => {
    const b = await versionedBucket();
    await put(b, 'a b=c/ü');
    const r = await list(b, { EncodingType: 'url', KeyMarker: 'a' });
    assert.equal(r.EncodingType, 'url');
    assert.equal(r.Versions![0].Key, 'a+b%3Dc/%C3%BC');
    const d = await list(b, { EncodingType: 'url', Delimiter: '=' });
    assert.deepEqual(d.CommonPrefixes?.map((p) => p.Prefix), ['a+b%3D']);
    assert.equal(d.Delimiter, '%3D');
    for (const value of ['value', '']) {
      const bad = await raw(server, { method: 'GET', path: `/${b}`, query: { versions: '', 'encoding-type': value } });
      assert.equal(bad.status, 400);
      assert.equal(xmlField(bad.body, 'Code'), 'InvalidArgument');
      assert.equal(xmlField(bad.body, 'Message'), 'Invalid Encoding Method specified in Request');
    }
  });

  it('ListObjectVersions pages through many versions of many keys without loss or repeat', async () => {
    const b = await versionedBucket();
    const expected: string[] = [];
    for (const k of ['x/1', 'x/2', 'y']) {
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push(await put(b, k, `${k}-${i}`));
      ids.push((await s3.send(new DeleteObjectCommand({ Bucket: b, Key: k }))).VersionId!);
      expected.push(...ids.reverse().map((id) => `${k}@${id}`));
    }
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const r = await list(b, { MaxKeys: 3, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker });
      const page = [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])];
      assert.ok(page.length <= 3);
      const order = (await raw(server, { method: 'GET', path: `/${b}`, query: { versions: '', 'max-keys': '3', ...(keyMarker ? { 'key-marker': keyMarker } : {}), ...(versionIdMarker ? { 'version-id-marker': versionIdMarker } : {}) } })).body;
      seen.push(...[...order.matchAll(/<(?:Version|DeleteMarker)>.*?<Key>([^<]*)<\/Key><VersionId>([^<]*)<\/VersionId>/g)].map((m) => `${m[1]}@${m[2]}`));
      if (!r.IsTruncated) break;
      keyMarker = r.NextKeyMarker;
      versionIdMarker = r.NextVersionIdMarker;
    }
    assert.deepEqual(seen, expected);
  });
});
