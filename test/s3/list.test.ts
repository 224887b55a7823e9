import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, ListObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
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

async function bucketWith(keys: string[], body = 'content 123'): Promise<string> {
  const b = bucketName('list');
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: body }));
  return b;
}

const keysOf = (r: { Contents?: Array<{ Key?: string }> }) => (r.Contents ?? []).map((c) => c.Key);
const prefixesOf = (r: { CommonPrefixes?: Array<{ Prefix?: string }> }) => (r.CommonPrefixes ?? []).map((c) => c.Prefix);

describe('ListObjectsV2', () => {
  it('ListObjectsV2 prefix and delimiter give CommonPrefixes and KeyCount (recorded)', async () => {
    const b = await bucketWith(['test/foo/bar/123', 'test/foo/bar/456', 'test/bar/foo/123']);
    const all = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'test/' }));
    assert.deepEqual(keysOf(all), ['test/bar/foo/123', 'test/foo/bar/123', 'test/foo/bar/456']);
    assert.equal(all.KeyCount, 3);
    assert.equal(all.MaxKeys, 1000);
    assert.equal(all.IsTruncated, false);
    assert.equal(all.Contents![0].ETag, '"0d9fa06a66933b40f615f530e59edd6b"');
    assert.equal(all.Contents![0].Size, 11);
    assert.equal(all.Contents![0].StorageClass, 'STANDARD');
    assert.deepEqual(all.Contents![0].ChecksumAlgorithm, ['CRC32']);
    assert.equal(all.Contents![0].ChecksumType, 'FULL_OBJECT');
    assert.equal(all.Contents![0].Owner, undefined);
    const d1 = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'test/', Delimiter: '/' }));
    assert.deepEqual(prefixesOf(d1), ['test/bar/', 'test/foo/']);
    assert.equal(d1.KeyCount, 2);
    assert.equal(d1.Contents, undefined);
    const d2 = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'test/', Delimiter: '/', MaxKeys: 1 }));
    assert.deepEqual(prefixesOf(d2), ['test/bar/']);
    assert.equal(d2.IsTruncated, true);
    assert.ok(d2.NextContinuationToken);
    const d3 = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'test/', Delimiter: '/', MaxKeys: 1, ContinuationToken: d2.NextContinuationToken }));
    assert.deepEqual(prefixesOf(d3), ['test/foo/']);
    assert.equal(d3.IsTruncated, false);
    assert.equal(d3.ContinuationToken, d2.NextContinuationToken);
    const d4 = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'test/foo/bar', Delimiter: '/' }));
    assert.deepEqual(prefixesOf(d4), ['test/foo/bar/']);
  });

  it('ListObjectsV2 pages with max-keys, continuation-token and start-after (recorded)', async () => {
    const b = await bucketWith(Array.from({ length: 12 }, (_, i) => `test_${i}`));
    const p1 = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 5 }));
    assert.deepEqual(keysOf(p1), ['test_0', 'test_1', 'test_10', 'test_11', 'test_2']);
    assert.equal(p1.IsTruncated, true);
    assert.equal(p1.KeyCount, 5);
    assert.match(p1.NextContinuationToken!, /^[A-Za-z0-9_-]+$/);
    const p2 = await s3.send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: p1.NextContinuationToken }));
    assert.deepEqual(keysOf(p2), ['test_3', 'test_4', 'test_5', 'test_6', 'test_7', 'test_8', 'test_9']);
    assert.equal(p2.IsTruncated, false);
    assert.equal(p2.NextContinuationToken, undefined);
    const sa = await s3.send(new ListObjectsV2Command({ Bucket: b, StartAfter: 'test_7', MaxKeys: 2 }));
    assert.deepEqual(keysOf(sa), ['test_8', 'test_9']);
    assert.equal(sa.IsTruncated, false);
    assert.equal(sa.StartAfter, 'test_7');
    const both = await s3.send(new ListObjectsV2Command({ Bucket: b, StartAfter: 'test_7', ContinuationToken: p1.NextContinuationToken }));
    assert.deepEqual(keysOf(both), keysOf(p2));
    assert.equal(both.StartAfter, undefined);
    for (const bad of ['', 'not-a-token', p1.NextContinuationToken!.slice(0, -1) + '~']) {
      const e = await s3Error(() => s3.send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: bad })));
      assert.equal(e.status, 400);
      assert.equal(e.name, 'InvalidArgument');
      assert.equal(e.message, 'The continuation token provided is incorrect');
      assert.equal(e.raw.ArgumentName, 'continuation-token');
    }
  });

  it('ListObjectsV2 continues past a CommonPrefix (recorded)', async () => {
    const b = await bucketWith(['folder/aSubfolder/subFile1', 'folder/aSubfolder/subFile2', 'folder/file1', 'folder/file2']);
    const pages: Array<{ keys: unknown[]; prefixes: unknown[]; truncated?: boolean }> = [];
    let token: string | undefined;
    do {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'folder/', Delimiter: '/', MaxKeys: 1, ContinuationToken: token }));
      pages.push({ keys: keysOf(r), prefixes: prefixesOf(r), truncated: r.IsTruncated });
      token = r.NextContinuationToken;
    } while (token);
    assert.deepEqual(pages, [
      { keys: [], prefixes: ['folder/aSubfolder/'], truncated: true },
      { keys: ['folder/file1'], prefixes: [], truncated: true },
      { keys: ['folder/file2'], prefixes: [], truncated: false },
    ]);
  });

  it('ListObjectsV2 fetch-owner adds Owner', async () => {
    const b = await bucketWith(['k']);
    const r = await s3.send(new ListObjectsV2Command({ Bucket: b, FetchOwner: true }));
    assert.equal(r.Contents![0].Owner?.ID, server.deps.config.rootCanonicalId);
  });

  it('ListObjectsV2 max-keys 0 lists nothing; a bad max-keys is InvalidArgument', async () => {
    const b = await bucketWith(['a', 'b']);
    const r = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 0 }));
    assert.equal(r.KeyCount, 0);
    assert.equal(r.MaxKeys, 0);
    assert.equal(r.Contents, undefined);
    const e = await s3Error(() => s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: -1 })));
    assert.equal(e.status, 400);
    assert.equal(e.name, 'InvalidArgument');
    assert.equal(e.message, 'Argument maxKeys must be an integer between 0 and 2147483647');
    assert.equal(e.raw.ArgumentName, 'maxKeys');
    const big = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 5000 }));
    assert.equal(big.KeyCount, 2);
  });

  it('ListObjectsV2 encoding-type other than url is InvalidArgument (recorded)', async () => {
    const b = await bucketWith([]);
    for (const value of ['value', '']) {
      const r = await raw(server, { method: 'GET', path: `/${b}`, query: { 'list-type': '2', 'encoding-type': value } });
      assert.equal(r.status, 400);
      assert.equal(xmlField(r.body, 'Code'), 'InvalidArgument');
      assert.equal(xmlField(r.body, 'Message'), 'Invalid Encoding Method specified in Request');
      assert.equal(xmlField(r.body, 'ArgumentName'), 'encoding-type');
      assert.match(r.body, new RegExp(`<ArgumentValue>${value}</ArgumentValue>`));
    }
  });
});

describe('ListObjects', () => {
  it('ListObjects NextMarker comes only with a delimiter (recorded)', async () => {
    const b = await bucketWith(['test_0', 'test_1', 'test_2']);
    const all = await s3.send(new ListObjectsCommand({ Bucket: b }));
    assert.deepEqual(keysOf(all), ['test_0', 'test_1', 'test_2']);
    assert.equal(all.Marker, '');
    assert.equal(all.Contents![0].Owner?.ID, server.deps.config.rootCanonicalId);
    const m1 = await s3.send(new ListObjectsCommand({ Bucket: b, MaxKeys: 1, Delimiter: '/' }));
    assert.deepEqual(keysOf(m1), ['test_0']);
    assert.equal(m1.IsTruncated, true);
    assert.equal(m1.NextMarker, 'test_0');
    const rest = await s3.send(new ListObjectsCommand({ Bucket: b, MaxKeys: 1, Marker: m1.NextMarker }));
    assert.deepEqual(keysOf(rest), ['test_1']);
    assert.equal(rest.IsTruncated, true);
    assert.equal(rest.NextMarker, undefined);
    assert.equal(rest.Marker, 'test_0');
  });

  it('ListObjects a marker inside a CommonPrefix skips the whole prefix (recorded)', async () => {
    const b = await bucketWith(['folder/aSubfolder/subFile1', 'folder/aSubfolder/subFile2', 'folder/file1', 'folder/file2']);
    const start = await s3.send(new ListObjectsCommand({ Bucket: b, Prefix: 'folder/', Delimiter: '/', MaxKeys: 1 }));
    assert.deepEqual(prefixesOf(start), ['folder/aSubfolder/']);
    assert.equal(start.NextMarker, 'folder/aSubfolder/');
    const next = await s3.send(new ListObjectsCommand({ Bucket: b, Prefix: 'folder/', Delimiter: '/', MaxKeys: 1, Marker: start.NextMarker }));
    assert.deepEqual(keysOf(next), ['folder/file1']);
    assert.equal(next.NextMarker, 'folder/file1');
    const end = await s3.send(new ListObjectsCommand({ Bucket: b, Prefix: 'folder/', Delimiter: '/', MaxKeys: 1, Marker: next.NextMarker }));
    assert.deepEqual(keysOf(end), ['folder/file2']);
    assert.equal(end.IsTruncated, false);
    const manual = await s3.send(new ListObjectsCommand({ Bucket: b, Prefix: 'folder/', Delimiter: '/', MaxKeys: 1, Marker: 'folder/aSubfolder/subFile1' }));
    assert.deepEqual(keysOf(manual), ['folder/file1']);
  });

  it('ListObjects without encoding echoes Marker empty and Prefix raw (recorded)', async () => {
    const b = await bucketWith(['test/foo/bar/123']);
    const r = await raw(server, { method: 'GET', path: `/${b}`, query: { prefix: 'test', delimiter: '/' } });
    assert.equal(r.status, 200);
    assert.match(r.body, /<Prefix>test<\/Prefix><Marker><\/Marker>/);
    assert.match(r.body, /<MaxKeys>1000<\/MaxKeys><Delimiter>\/<\/Delimiter><IsTruncated>false<\/IsTruncated>/);
    assert.match(r.body, /<CommonPrefixes><Prefix>test\/<\/Prefix><\/CommonPrefixes>/);
    assert.doesNotMatch(r.body, /EncodingType/);
  });
});

describe('Listing keys', () => {
  const odd = [
    '../up', '%', '%2F', '+plus', 'a b', 'a  b ', ' lead', 'x/', 'x//', 'dir/../file', 'q?x=1&y=2', 'lt<gt>', 'quote"\'',
    'ünïcödé', '日本/語', '😀/face', '\uFF21wide', 'tab\tkey', 'cr\rkey', 'date=2026-01-01/', 'test@key/', 'tilde~*',
  ];

  it('ListObjectsV2 round-trips keys of any UTF-8 in UTF-8 byte order', async () => {
    const b = await bucketWith(odd);
    const expected = [...odd].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const plain = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    assert.deepEqual(keysOf(plain), expected);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: b }));
    assert.deepEqual(keysOf(v1), expected);
  });

  it('ListObjectsV2 encoding-type=url encodes keys, prefixes, delimiter and start-after', async () => {
    const b = await bucketWith(odd);
    const expected = [...odd].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const r = await s3.send(new ListObjectsV2Command({ Bucket: b, EncodingType: 'url' }));
    assert.equal(r.EncodingType, 'url');
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    assert.deepEqual(keysOf(r).map((k) => decode(k!)), expected);
    assert.ok(keysOf(r).includes('date%3D2026-01-01/'));
    assert.ok(keysOf(r).includes('%F0%9F%98%80/face'));
    assert.ok(keysOf(r).includes('a+b'));
    assert.ok(keysOf(r).includes('tilde%7E*'));
    const sa = await s3.send(new ListObjectsV2Command({ Bucket: b, EncodingType: 'url', StartAfter: 'date=2026-01-01/', MaxKeys: 1 }));
    assert.equal(sa.StartAfter, 'date%3D2026-01-01/');
    assert.deepEqual(keysOf(sa), ['dir/../file']);
    const cp = await s3.send(new ListObjectsV2Command({ Bucket: b, EncodingType: 'url', StartAfter: 'q', Delimiter: '=', MaxKeys: 1 }));
    assert.equal(cp.Delimiter, '%3D');
    assert.deepEqual(prefixesOf(cp), ['q%3Fx%3D']);
  });

  it('ListObjectsV2 pages through odd keys one at a time without loss', async () => {
    const b = await bucketWith(odd);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 1, ContinuationToken: token }));
      seen.push(...keysOf(r).map(String));
      token = r.NextContinuationToken;
    } while (token);
    assert.deepEqual(seen, [...odd].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
  });

  it('ListObjectsV2 jumps past a CommonPrefix in O(1) store queries', async () => {
    const b = bucketName('list');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const keys = ['a', ...Array.from({ length: 150 }, (_, i) => `big/${String(i).padStart(4, '0')}`), 'big2/x', 'c/1', 'c/2', 'z'];
    await Promise.all(keys.map((k) => s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: 'x' }))));
    const meta = server.deps.meta;
    const original = meta.listVersions.bind(meta);
    let calls = 0;
    let rows = 0;
    meta.listVersions = async (bucket, q) => {
      const r = await original(bucket, q);
      if (bucket === b) {
        calls++;
        rows += r.length;
      }
      return r;
    };
    try {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/' }));
      assert.deepEqual(keysOf(r), ['a', 'z']);
      assert.deepEqual(prefixesOf(r), ['big/', 'big2/', 'c/']);
      assert.ok(calls <= 6, `${calls} queries`);
      assert.ok(rows <= 60, `${rows} rows read`);
    } finally {
      meta.listVersions = original;
    }
  });
});
