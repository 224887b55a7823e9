import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';

/** Health, readiness and Prometheus metrics under /-/, outside the S3 namespace. */
describe('operations endpoints', () => {
  let env: Awaited<ReturnType<typeof liveServer>>;
  before(async () => {
    env = await liveServer();
  });
  after(() => env.close());

  const get = (path: string, method = 'GET') => fetch(env.server.url + path, { method });

  it('GET /-/healthy answers 200 without a signature', async () => {
    const r = await get('/-/healthy');
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'ok\n');
  });

  it('GET /-/ready answers 200 while the metadata store answers', async () => {
    const r = await get('/-/ready');
    assert.equal(r.status, 200);
  });

  it('GET /-/metrics counts S3 requests by operation and status', async () => {
    const bucket = bucketName('ops');
    await env.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await env.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'hello' }));
    await s3Error(() => env.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing' })));
    const text = await (await get('/-/metrics')).text();
    assert.match(text, /^tessera_requests_total\{operation="PutObject",status="200"\} 1$/m);
    assert.match(text, /^tessera_requests_total\{operation="GetObject",status="404"\} 1$/m);
    assert.match(text, /^tessera_request_duration_seconds_count\{operation="PutObject"\} 1$/m);
    assert.match(text, /^tessera_request_body_bytes_total\{operation="PutObject"\} 5$/m);
    assert.match(text, /^process_resident_memory_bytes \d+$/m);
  });

  it('unknown paths under /-/ are 404 and other methods 405; S3 paths are untouched', async () => {
    assert.equal((await get('/-/nothing')).status, 404);
    assert.equal((await get('/-/healthy', 'POST')).status, 405);
    const anon = await get('/some-bucket/key');
    assert.equal(anon.status, 404, 'an S3 path still reaches S3 (a missing bucket, as AWS answers anonymous callers)');
    assert.match(await anon.text(), /<Code>NoSuchBucket<\/Code>/);
  });
});
