import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as sdk from '@aws-sdk/client-s3';
import type { HttpRequest } from '@smithy/types';
import { address, route, ROUTES, type RoutedOperation, type Target } from '../../src/http/router.js';
import { OPERATIONS, type Operation } from '../../src/api/operations.js';
import { HANDLERS } from '../../src/api/handlers.js';

/** Requests as the SDK and the CLI send them, and the operation AWS would name. */
const TABLE: Array<[string, Target, string, Record<string, string>, RoutedOperation]> = [
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
  ['GET', 'bucket', 'policyStatus', {}, 'GetBucketPolicyStatus'],
  ['GET', 'bucket', 'acl', {}, 'GetBucketAcl'],
  ['PUT', 'bucket', 'lifecycle', {}, 'PutBucketLifecycleConfiguration'],
  ['DELETE', 'bucket', 'lifecycle', {}, 'DeleteBucketLifecycle'],
  ['GET', 'bucket', 'publicAccessBlock', {}, 'GetPublicAccessBlock'],
  ['PUT', 'bucket', 'publicAccessBlock', {}, 'PutPublicAccessBlock'],
  ['DELETE', 'bucket', 'publicAccessBlock', {}, 'DeletePublicAccessBlock'],
  ['GET', 'bucket', 'object-lock', {}, 'GetObjectLockConfiguration'],
  ['PUT', 'bucket', 'object-lock', {}, 'PutObjectLockConfiguration'],
  ['GET', 'bucket', 'analytics', {}, 'ListBucketAnalyticsConfigurations'],
  ['GET', 'bucket', 'analytics&id=a', {}, 'GetBucketAnalyticsConfiguration'],
  ['GET', 'bucket', 'intelligent-tiering&id=a', {}, 'GetBucketIntelligentTieringConfiguration'],
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

/** Operations AWS documents that have no SDK command: the browser form upload and the CORS preflight. */
const NOT_SDK_COMMANDS = new Set(['PostObject', 'PreflightRequest']);
const COMMANDS = new Map(Object.entries(sdk).filter(([name]) => name.endsWith('Command')));
const ROUTED = new Set<string>(ROUTES.map((r) => r.op));

/** Enough input for the SDK to build any routed operation's request: its path labels and required query and headers. */
const INPUT = {
  Bucket: 'bucket', Key: 'key', UploadId: 'upload', PartNumber: 1, CopySource: 'source/key', Id: 'id', ObjectAttributes: ['ETag'],
  Delete: { Objects: [{ Key: 'key' }] }, Expression: 'SELECT * FROM S3Object', ExpressionType: 'SQL', InputSerialization: {}, OutputSerialization: {},
};

class Captured extends Error {
  constructor(readonly request: HttpRequest) {
    super('captured');
  }
}

/** The HTTP request the SDK sends for an operation, captured after signing and never sent. */
async function sdkRequest(op: string): Promise<HttpRequest> {
  const client = new sdk.S3Client({
    region: 'us-east-1', endpoint: 'http://localhost:9000', forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
  client.middlewareStack.add(
    () => async (args) => {
      throw new Captured(args.request as HttpRequest);
    },
    { step: 'finalizeRequest', priority: 'low' },
  );
  const Command = COMMANDS.get(`${op}Command`) as new (input: typeof INPUT) => Parameters<typeof client.send>[0];
  try {
    await client.send(new Command(INPUT));
  } catch (e) {
    if (e instanceof Captured) return e.request;
    throw e;
  } finally {
    client.destroy();
  }
  throw new Error(`${op}: the SDK sent nothing`);
}

function targetOf(path: string): Target {
  const { bucket, key } = address(path, 'localhost:9000', []);
  return key !== undefined ? 'object' : bucket !== undefined ? 'bucket' : 'service';
}

describe('operation names', () => {
  it('every routed operation is AWS\'s: @aws-sdk/client-s3 has its command (but the listed few)', () => {
    for (const op of ROUTED) if (!NOT_SDK_COMMANDS.has(op)) assert.ok(COMMANDS.has(`${op}Command`), `${op}: no ${op}Command in @aws-sdk/client-s3`);
  });

  for (const op of [...ROUTED].filter((name) => !NOT_SDK_COMMANDS.has(name))) {
    it(`the SDK's ${op} request routes to ${op}`, async () => {
      const request = await sdkRequest(op);
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries(request.query ?? {})) {
        for (const v of Array.isArray(value) ? value : [value ?? '']) query.append(name, v);
      }
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
      assert.equal(route({ method: request.method, target: targetOf(request.path), query, headers }), op);
    });
  }

  it('the Operation list is the routed operations and PreflightRequest, each once', () => {
    assert.equal(new Set(OPERATIONS).size, OPERATIONS.length);
    assert.deepEqual(new Set(OPERATIONS), new Set([...ROUTED, 'PreflightRequest']));
  });

  it('every key of HANDLERS is routed (PreflightRequest: every OPTIONS request)', () => {
    for (const op of Object.keys(HANDLERS)) assert.ok(ROUTED.has(op) || op === 'PreflightRequest', op);
  });

  it('every handler exported under an operation\'s name, anywhere in src/api/, is in HANDLERS', async () => {
    const api = join(import.meta.dirname, '..', '..', 'src', 'api');
    const names = new Set<string>(OPERATIONS);
    const files = readdirSync(api, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    let found = 0;
    for (const file of files) {
      const module: Record<string, unknown> = await import(join(api, file));
      for (const [name, value] of Object.entries(module)) {
        if (!names.has(name) || typeof value !== 'function') continue;
        found++;
        assert.equal(typeof HANDLERS[name as Operation], 'function', `${file} exports ${name}, which HANDLERS does not list`);
      }
    }
    assert.equal(found, Object.keys(HANDLERS).length);
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
