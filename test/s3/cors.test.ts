import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand, DeleteBucketCorsCommand, DeleteBucketOwnershipControlsCommand, DeletePublicAccessBlockCommand, GetBucketCorsCommand,
  PutBucketAclCommand, PutBucketCorsCommand, PutObjectCommand, S3Client, type CORSRule,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';

/**
 * CORS configuration and the answers browsers see, against AWS's recorded
 * answers (test_s3_cors.snapshot.json).
 */
let s3: S3Client;
let url: string;
let close: () => Promise<void>;

before(async () => {
  const live = await liveServer();
  s3 = live.s3;
  url = live.server.url;
  close = live.close;
});
after(() => close());

const ERR = 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.';
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';
const ORIGIN = 'https://localhost:4200';

/** A bucket with a publicly readable object `key` holding "test-cors" (as the recordings' fixture). */
async function publicObject(key: string): Promise<string> {
  const bucket = bucketName('cors');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: bucket }));
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read-write' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'test-cors', ACL: 'public-read' }));
  return bucket;
}

const cors = (bucket: string, ...CORSRules: CORSRule[]) => s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules } }));

async function call(method: string, path: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${url}/${path}`, { method, headers });
  const body = await r.text();
  const h: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    if (k.startsWith('access-control-') || k === 'vary') h[k] = v;
  });
  return { status: r.status, cors: h, body, headers: r.headers };
}

function errorOf(body: string) {
  const get = (n: string) => body.match(new RegExp(`<${n}>([^<]*)</${n}>`))?.[1];
  return { code: get('Code'), message: get('Message')?.replace(/&apos;/g, "'"), method: get('Method'), resourceType: get('ResourceType'), resource: get('Resource') };
}

/** The CORS headers of a rule, as recorded. */
function allow(origin: string, methods: string, extra: Record<string, string> = {}) {
  const h: Record<string, string> = { 'access-control-allow-origin': origin, 'access-control-allow-methods': methods, vary: VARY, ...extra };
  if (origin !== '*') h['access-control-allow-credentials'] = 'true';
  return h;
}

describe('CORS', () => {
  it('PutBucketCors / GetBucketCors / DeleteBucketCors round trip, 404 before and after (recorded)', async () => {
    const bucket = bucketName('cors');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const none = await s3Error(() => s3.send(new GetBucketCorsCommand({ Bucket: bucket })));
    assert.equal(none.status, 404);
    assert.equal(none.name, 'NoSuchCORSConfiguration');
    assert.equal(none.message, 'The CORS configuration does not exist');
    assert.equal(none.raw.BucketName, bucket);
    assert.equal((await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }))).$metadata.httpStatusCode, 204);
    const rule = {
      AllowedOrigins: ['https://test.com', 'https://app.test.com', 'http://test.com:80'], AllowedMethods: ['GET', 'PUT', 'HEAD'], MaxAgeSeconds: 3000,
      AllowedHeaders: ['x-amz-expected-bucket-owner', 'x-amz-server-side-encryption-customer-algorithm', 'x-AMZ-server-SIDE-encryption'],
    };
    assert.equal((await cors(bucket, rule)).$metadata.httpStatusCode, 200);
    const got = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
    assert.deepEqual(got.CORSRules, [rule]);
    await cors(bucket, { AllowedOrigins: [''], AllowedMethods: ['GET', 'PUT', 'HEAD'] });
    assert.deepEqual((await s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules, [{ AllowedOrigins: [''], AllowedMethods: ['GET', 'PUT', 'HEAD'] }]);
    assert.equal((await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }))).$metadata.httpStatusCode, 204);
    assert.equal((await s3Error(() => s3.send(new GetBucketCorsCommand({ Bucket: bucket })))).name, 'NoSuchCORSConfiguration');
  });

  it('PutBucketCors with an unknown method or no rule is refused (recorded)', async () => {
    const bucket = bucketName('cors');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const bad = await s3Error(() => cors(bucket, { AllowedOrigins: ['*', 'https://test.com'], AllowedMethods: ['GET', 'PUT', 'HEAD', 'MYMETHOD'] }));
    assert.equal(bad.status, 400);
    assert.equal(bad.name, 'InvalidRequest');
    assert.equal(bad.message, 'Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD');
    const empty = await s3Error(() => s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [] } })));
    assert.equal(empty.name, 'MalformedXML');
    assert.equal(empty.message, 'The XML you provided was not well-formed or did not validate against our published schema');
    const wild = await s3Error(() => cors(bucket, { AllowedOrigins: ['http://*.*.com'], AllowedMethods: ['GET'] }));
    assert.equal(wild.message, 'AllowedOrigin "http://*.*.com" can not have more than one wildcard.');
  });

  it('OPTIONS without CORS configuration: 400 without Origin, 403 AccessForbidden with it; GET carries no CORS headers (recorded)', async () => {
    const bucket = await publicObject('k');
    const noOrigin = await call('OPTIONS', `${bucket}/k`);
    assert.equal(noOrigin.status, 400);
    assert.deepEqual(errorOf(noOrigin.body), { code: 'BadRequest', message: 'Insufficient information. Origin request header needed.', method: undefined, resourceType: undefined, resource: undefined });
    const withMethod = await call('OPTIONS', `${bucket}/k`, { Origin: 'whatever', 'Access-Control-Request-Method': 'PUT' });
    assert.equal(withMethod.status, 403);
    assert.deepEqual(errorOf(withMethod.body), { code: 'AccessForbidden', message: 'CORSResponse: CORS is not enabled for this bucket.', method: 'PUT', resourceType: 'BUCKET', resource: undefined });
    const noMethod = await call('OPTIONS', `${bucket}/k`, { Origin: 'whatever' });
    assert.equal(errorOf(noMethod.body).method, 'OPTIONS');
    const get = await call('GET', `${bucket}/k`, { Origin: 'whatever' });
    assert.equal(get.status, 200);
    assert.equal(get.body, 'test-cors');
    assert.deepEqual(get.cors, {});
  });

  it('OPTIONS on a bucket that does not exist (recorded)', async () => {
    const missing = bucketName('cors-missing');
    assert.equal((await call('OPTIONS', `${missing}/k`)).status, 400);
    const r = await call('OPTIONS', `${missing}/k`, { Origin: 'whatever' });
    assert.equal(r.status, 403);
    assert.deepEqual(errorOf(r.body), { code: 'AccessForbidden', message: 'CORSResponse: Bucket not found', method: 'OPTIONS', resourceType: 'BUCKET', resource: undefined });
  });

  it('origins: exact, wrong scheme, `*`, and a partial wildcard (recorded)', async () => {
    const bucket = await publicObject('test-cors-123');
    const key = `${bucket}/test-cors-123`;
    await cors(bucket, { AllowedOrigins: [ORIGIN], AllowedMethods: ['GET', 'PUT'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] });
    const referer = await call('OPTIONS', key, { referer: ORIGIN, 'Access-Control-Request-Method': 'PUT' });
    assert.equal(referer.status, 400);
    assert.equal(referer.headers.get('connection'), 'close');
    assert.deepEqual((await call('GET', key, { referer: ORIGIN })).cors, {});
    const right = await call('OPTIONS', key, { Origin: ORIGIN, 'Access-Control-Request-Method': 'PUT' });
    assert.equal(right.status, 200);
    assert.equal(right.body, '');
    assert.equal(right.headers.get('content-length'), '0');
    assert.equal(right.headers.get('content-type'), null);
    assert.deepEqual(right.cors, allow(ORIGIN, 'GET, PUT', { 'access-control-max-age': '3000' }));
    const get = await call('GET', key, { Origin: ORIGIN });
    assert.equal(get.body, 'test-cors');
    assert.deepEqual(get.cors, allow(ORIGIN, 'GET, PUT', { 'access-control-max-age': '3000' }));
    const wrong = await call('OPTIONS', key, { Origin: 'http://localhost:4200', 'Access-Control-Request-Method': 'PUT' });
    assert.equal(wrong.status, 403);
    assert.deepEqual(errorOf(wrong.body), { code: 'AccessForbidden', message: ERR, method: 'PUT', resourceType: 'OBJECT', resource: undefined });
    assert.deepEqual(wrong.cors, {});
    assert.deepEqual((await call('GET', key, { Origin: 'http://localhost:4200' })).cors, {});
    await cors(bucket, { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PUT'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] });
    assert.deepEqual((await call('OPTIONS', key, { Origin: 'http://random:1234', 'Access-Control-Request-Method': 'PUT' })).cors, allow('*', 'GET, PUT', { 'access-control-max-age': '3000' }));
    assert.deepEqual((await call('GET', key, { Origin: 'http://random:1234' })).cors, allow('*', 'GET, PUT', { 'access-control-max-age': '3000' }));
    await cors(bucket, { AllowedOrigins: ['http://*.origin.com'], AllowedMethods: ['GET', 'PUT'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] });
    const partial = await call('OPTIONS', bucket, { Origin: 'http://test.origin.com', 'Access-Control-Request-Method': 'GET' });
    assert.deepEqual(partial.cors, allow('http://test.origin.com', 'GET, PUT', { 'access-control-max-age': '3000' }));
    const slash = await call('OPTIONS', bucket, { Origin: 'http://test.origin.com/', 'Access-Control-Request-Method': 'GET' });
    assert.equal(slash.status, 403);
    assert.deepEqual(errorOf(slash.body), { code: 'AccessForbidden', message: ERR, method: 'GET', resourceType: 'BUCKET', resource: undefined });
  });

  it('methods: a preflight for a method no rule allows is refused; a GET naming it gets no CORS headers (recorded)', async () => {
    const bucket = await publicObject('test-cors-method');
    const key = `${bucket}/test-cors-method`;
    await cors(bucket, { AllowedOrigins: [ORIGIN], AllowedMethods: ['GET'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] });
    assert.deepEqual((await call('OPTIONS', key, { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET' })).cors, allow(ORIGIN, 'GET', { 'access-control-max-age': '3000' }));
    assert.deepEqual((await call('GET', key, { Origin: ORIGIN, 'Access-Control-Request-Method': 'PUT' })).cors, {});
    assert.deepEqual((await call('GET', key, { Origin: ORIGIN })).cors, allow(ORIGIN, 'GET', { 'access-control-max-age': '3000' }));
    const put = await call('OPTIONS', `${key}new`, { Origin: ORIGIN, 'Access-Control-Request-Method': 'PUT' });
    assert.equal(put.status, 403);
    assert.deepEqual(errorOf(put.body), { code: 'AccessForbidden', message: ERR, method: 'PUT', resourceType: 'OBJECT', resource: undefined });
    const anonPut = await call('PUT', `${key}new`, { Origin: ORIGIN });
    assert.equal(anonPut.status, 200);
    assert.equal(anonPut.headers.get('etag'), '"d41d8cd98f00b204e9800998ecf8427e"');
    assert.deepEqual(anonPut.cors, {});
  });

  it('headers: requested headers are matched case-insensitively and echoed lower-cased (recorded)', async () => {
    const bucket = await publicObject('test-cors-method');
    const key = `${bucket}/test-cors-method`;
    await cors(bucket, { AllowedOrigins: [ORIGIN], AllowedMethods: ['GET'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] });
    const pre = (h: string) => call('OPTIONS', key, { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': h });
    assert.deepEqual((await pre('x-amz-request-payer')).cors, allow(ORIGIN, 'GET', { 'access-control-max-age': '3000', 'access-control-allow-headers': 'x-amz-request-payer' }));
    assert.equal((await pre('x-amz-request-payer, x-amz-expected-bucket-owner')).cors['access-control-allow-headers'], 'x-amz-request-payer, x-amz-expected-bucket-owner');
    await cors(bucket, { AllowedOrigins: [ORIGIN], AllowedMethods: ['GET'], MaxAgeSeconds: 3000, AllowedHeaders: ['x-amz-expected-bucket-owner', 'x-amz-server-side-encryption-customer-algorithm', 'x-AMZ-server-SIDE-encryption'] });
    const refused = await pre('x-amz-request-payer');
    assert.equal(refused.status, 403);
    assert.deepEqual(errorOf(refused.body), { code: 'AccessForbidden', message: ERR, method: 'GET', resourceType: 'OBJECT', resource: undefined });
    assert.equal((await pre('x-amz-expected-bucket-owner')).cors['access-control-allow-headers'], 'x-amz-expected-bucket-owner');
    assert.equal((await pre('x-AMZ-expected-BUCKET-owner, x-amz-server-side-encryption')).cors['access-control-allow-headers'], 'x-amz-expected-bucket-owner, x-amz-server-side-encryption');
    assert.equal((await pre('x-amz-expected-bucket-owner,x-amz-server-side-encryption')).cors['access-control-allow-headers'], 'x-amz-expected-bucket-owner, x-amz-server-side-encryption');
    assert.deepEqual((await call('GET', key, { Origin: ORIGIN, 'Access-Control-Request-Headers': 'x-amz-request-payer' })).cors, {});
    assert.deepEqual((await call('GET', key, { Origin: ORIGIN, 'x-amz-request-payer': 'requester' })).cors, allow(ORIGIN, 'GET', { 'access-control-max-age': '3000' }));
  });

  it('ExposeHeaders are exposed; without AllowedHeaders a requested header is refused (recorded)', async () => {
    const bucket = await publicObject('test-cors-expose');
    const key = `${bucket}/test-cors-expose`;
    await cors(bucket, { AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['x-amz-id-2', 'x-amz-request-id', 'x-amz-request-payer'] });
    const r = await call('OPTIONS', key, { Origin: 'localhost:4566', 'Access-Control-Request-Method': 'GET' });
    assert.deepEqual(r.cors, allow('*', 'GET', { 'access-control-expose-headers': 'x-amz-id-2, x-amz-request-id, x-amz-request-payer' }));
    await cors(bucket, { AllowedOrigins: ['*'], AllowedMethods: ['GET'] });
    assert.deepEqual((await call('OPTIONS', key, { Origin: 'localhost:4566', 'Access-Control-Request-Method': 'GET' })).cors, allow('*', 'GET'));
    const refused = await call('OPTIONS', key, { Origin: 'localhost:4566', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-amz-request-payer' });
    assert.equal(refused.status, 403);
    assert.equal(errorOf(refused.body).method, 'GET');
  });
});
