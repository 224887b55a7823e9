import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { address, route, ROUTES, type Target } from '../../src/http/router.js';

/** Requests as the SDK and the CLI send them, and the operation AWS would name. */
const TABLE: Array<[string, Target, string, Record<string, string>, string]> = [
  ['GET', 'service', '', {}, 'ListBuckets'],
  ['PUT', 'bucket', '', {}, 'CreateBucket'],
  ['HEAD', 'bucket', '', {}, 'HeadBucket'],
  ['DELETE', 'bucket', '', {}, 'DeleteBucket'],
  ['GET', 'bucket', '', {}, 'ListObjects'],
  ['GET', 'bucket', 'list-type=2&prefix=a', {}, 'ListObjectsV2'],
  ['GET', 'bucket', 'location', {}, 'GetBucketLocation'],
  ['GET', 'bucket', 'versioning', {}, 'GetBucketVersioning'],
  ['PUT', 'bucket', 'versioning', {}, 'PutBucketVersioning'],
  ['GET', 'bucket', 'versions&prefix=x', {}, 'ListObjectVersions'],
  ['GET', 'bucket', 'uploads', {}, 'ListMultipartUploads'],
  ['POST', 'bucket', 'delete', {}, 'DeleteObjects'],
  ['GET', 'bucket', 'tagging', {}, 'GetBucketTagging'],
  ['PUT', 'bucket', 'tagging', {}, 'PutBucketTagging'],
  ['DELETE', 'bucket', 'tagging', {}, 'DeleteBucketTagging'],
  ['PUT', 'bucket', 'policy', {}, 'PutBucketPolicy'],
  ['GET', 'bucket', 'acl', {}, 'GetBucketAcl'],
  ['PUT', 'bucket', 'lifecycle', {}, 'PutBucketLifecycleConfiguration'],
  ['PUT', 'object', '', {}, 'PutObject'],
  ['PUT', 'object', 'x-id=PutObject', {}, 'PutObject'],
  ['PUT', 'object', '', { 'x-amz-copy-source': '/b/k' }, 'CopyObject'],
  ['PUT', 'object', 'partNumber=1&uploadId=u', {}, 'UploadPart'],
  ['PUT', 'object', 'partNumber=1&uploadId=u', { 'x-amz-copy-source': '/b/k' }, 'UploadPartCopy'],
  ['GET', 'object', '', {}, 'GetObject'],
  ['GET', 'object', 'partNumber=1', {}, 'GetObject'],
  ['GET', 'object', 'versionId=v&response-content-type=a', {}, 'GetObject'],
  ['HEAD', 'object', '', {}, 'HeadObject'],
  ['DELETE', 'object', '', {}, 'DeleteObject'],
  ['DELETE', 'object', 'versionId=v', {}, 'DeleteObject'],
  ['POST', 'object', 'uploads', {}, 'CreateMultipartUpload'],
  ['POST', 'object', 'uploadId=u', {}, 'CompleteMultipartUpload'],
  ['DELETE', 'object', 'uploadId=u', {}, 'AbortMultipartUpload'],
  ['GET', 'object', 'uploadId=u&max-parts=2', {}, 'ListParts'],
  ['GET', 'object', 'tagging', {}, 'GetObjectTagging'],
  ['PUT', 'object', 'tagging', {}, 'PutObjectTagging'],
  ['DELETE', 'object', 'tagging', {}, 'DeleteObjectTagging'],
  ['GET', 'object', 'acl', {}, 'GetObjectAcl'],
  ['GET', 'object', 'attributes', {}, 'GetObjectAttributes'],
  ['POST', 'object', 'restore', {}, 'RestoreObject'],
  ['POST', 'object', 'select&select-type=2', {}, 'SelectObjectContent'],
  ['PUT', 'object', 'retention', {}, 'PutObjectRetention'],
  ['GET', 'object', 'legal-hold', {}, 'GetObjectLegalHold'],
];

describe('router', () => {
  for (const [method, target, qs, headers, op] of TABLE) {
    it(`route ${method} ${target}${qs ? '?' + qs : ''}${headers['x-amz-copy-source'] ? ' +copy-source' : ''} is ${op}`, () => {
      assert.equal(route({ method, target, query: new URLSearchParams(qs), headers }), op);
    });
  }

  it('route answers undefined (MethodNotAllowed) for methods no rule names', () => {
    assert.equal(route({ method: 'PATCH', target: 'object', query: new URLSearchParams(), headers: {} }), undefined);
    assert.equal(route({ method: 'POST', target: 'object', query: new URLSearchParams(), headers: {} }), undefined);
    assert.equal(route({ method: 'DELETE', target: 'service', query: new URLSearchParams(), headers: {} }), undefined);
  });

  it('route does not depend on the order of the table', () => {
    for (const [method, target, qs, headers, op] of TABLE) {
      const reversed = [...ROUTES].reverse();
      const matches = reversed.filter((r) => r.method === method && r.target === target && r.op === op);
      assert.ok(matches.length >= 1, op);
    }
  });

  it('every operation name is unique per method, target and selector', () => {
    const seen = new Set<string>();
    for (const r of ROUTES) {
      const sig = `${r.method} ${r.target} ${r.query?.join('&') ?? ''} ${r.queryEq?.join('=') ?? ''} ${r.header ?? ''}`;
      assert.ok(!seen.has(sig), sig);
      seen.add(sig);
    }
  });
});

describe('address', () => {
  const domains = ['localhost', 's3.localhost'];
  it('path style: bucket and percent-decoded key, + stays +', () => {
    assert.deepEqual(address('/', 'localhost:9000', domains), {});
    assert.deepEqual(address('/b', '127.0.0.1:9000', domains), { bucket: 'b' });
    assert.deepEqual(address('/b/', '127.0.0.1:9000', domains), { bucket: 'b', key: undefined });
    assert.deepEqual(address('/b/a%20b%2Bc+d/%F0%9F%98%80/', '127.0.0.1:9000', domains), { bucket: 'b', key: 'a b+c+d/😀/' });
    assert.deepEqual(address('/b/../x', '127.0.0.1', domains), { bucket: 'b', key: '../x' });
    assert.deepEqual(address('/b//double', '127.0.0.1', domains), { bucket: 'b', key: '/double' });
  });

  it('virtual-hosted style: the bucket comes from the Host header under a configured domain', () => {
    assert.deepEqual(address('/key/x', 'my-bucket.localhost:9000', domains), { bucket: 'my-bucket', key: 'key/x' });
    assert.deepEqual(address('/', 'my.dotted.bucket.s3.localhost', domains), { bucket: 'my.dotted.bucket', key: undefined });
    assert.deepEqual(address('/k', 'MY-BUCKET.LOCALHOST', domains), { bucket: 'my-bucket', key: 'k' });
  });

  it('a host outside the configured domains is path style', () => {
    assert.deepEqual(address('/b/k', 'bucket.example.com', domains), { bucket: 'b', key: 'k' });
  });

  it('a path that is not valid percent-encoding throws (InvalidURI at dispatch)', () => {
    assert.throws(() => address('/b/%E0%A4%A', 'localhost', domains));
  });
});
