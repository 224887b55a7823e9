/** Embedding: `import { startServer } from 'tessera'`, as users do in their own test suites. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startServer, type RunningServer } from 'tessera';
import { testMeta, type TestMeta } from '../helpers.js';

const sdk = (s: RunningServer) =>
  new S3Client({ endpoint: s.url, region: s.region, forcePathStyle: true, credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } });

describe('startServer from the tessera package', () => {
  const metas: TestMeta[] = [];
  after(async () => {
    for (const m of metas) await m.drop();
  });
  /** The suite's metadata store for one more server: in PostgreSQL mode, a database of its own. */
  const store = async () => {
    const m = await testMeta();
    metas.push(m);
    return m.options;
  };

  it('two servers run in one process, each with its own port, data, credentials and buckets', async () => {
    const a = await startServer({ port: 0, ...(await store()) });
    const b = await startServer({ port: 0, rootAccessKey: 'second-key', rootSecretKey: 'second-secret', ...(await store()) });
    const [ca, cb] = [sdk(a), sdk(b)];
    try {
      assert.notEqual(a.port, b.port);
      assert.notEqual(a.dataDir, b.dataDir);
      assert.match(a.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(b.accessKeyId, 'second-key');
      await ca.send(new CreateBucketCommand({ Bucket: 'shared-name' }));
      await cb.send(new CreateBucketCommand({ Bucket: 'shared-name' }));
      await ca.send(new PutObjectCommand({ Bucket: 'shared-name', Key: 'k', Body: 'from a' }));
      await cb.send(new PutObjectCommand({ Bucket: 'shared-name', Key: 'k', Body: 'from b' }));
      assert.equal(await (await ca.send(new GetObjectCommand({ Bucket: 'shared-name', Key: 'k' }))).Body!.transformToString(), 'from a');
      assert.equal(await (await cb.send(new GetObjectCommand({ Bucket: 'shared-name', Key: 'k' }))).Body!.transformToString(), 'from b');
      await ca.send(new CreateBucketCommand({ Bucket: 'only-in-a' }));
      await assert.rejects(cb.send(new HeadBucketCommand({ Bucket: 'only-in-a' })), (e: any) => e.$metadata?.httpStatusCode === 404);
      const wrongKeys = new S3Client({ endpoint: b.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey } });
      await assert.rejects(wrongKeys.send(new HeadBucketCommand({ Bucket: 'shared-name' })), (e: any) => e.$metadata?.httpStatusCode === 403);
      wrongKeys.destroy();
    } finally {
      ca.destroy();
      cb.destroy();
      await a.close();
      await b.close();
    }
    assert.ok(!existsSync(a.dataDir), 'close() removes the temporary data directory');
    assert.ok(!existsSync(b.dataDir));
  });

  it('closing one server leaves the other serving', async () => {
    const a = await startServer({ port: 0, ...(await store()) });
    const b = await startServer({ port: 0, ...(await store()) });
    await a.close();
    const cb = sdk(b);
    try {
      await cb.send(new CreateBucketCommand({ Bucket: 'still-up' }));
    } finally {
      cb.destroy();
      await b.close();
    }
  });
});
