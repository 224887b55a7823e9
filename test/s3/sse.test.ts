import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand,
  PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/index.js';
import { bucketName, liveServer, s3Error, startTestServer, testMeta, type TestMeta } from '../helpers.js';
import { errorCode, raw, xmlField } from './raw-signed.js';

const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);
const md5b64 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');
const ssec = (key: Buffer) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64') });
const triad = (key: Buffer, prefix = 'x-amz-server-side-encryption-customer-') => ({
  [prefix + 'algorithm']: 'AES256', [prefix + 'key']: key.toString('base64'), [prefix + 'key-md5']: md5b64(key),
});

async function bytes(s3: S3Client, input: ConstructorParameters<typeof GetObjectCommand>[0]): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand(input));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/**
 * What the metadata store holds for a value, as bytes, in either metadata
 * mode: strings as UTF-8, binary fields (inline data) as they are.
 */
function storedBytes(v: unknown): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return Buffer.concat(v.map(storedBytes));
  if (v && typeof v === 'object') return Buffer.concat(Object.entries(v).flatMap(([k, x]) => [Buffer.from(k), storedBytes(x)]));
  return Buffer.from(String(v));
}

/** Every file blob under the data directory, for checking what is at rest. */
function blobFiles(server: RunningServer): string[] {
  const root = join(server.dataDir, 'blobs');
  const out: string[] = [];
  for (const d of readdirSync(root)) for (const f of readdirSync(join(root, d))) out.push(join(root, d, f));
  return out;
}

describe('SSE-C on PutObject, GetObject and HeadObject', () => {
  let server: RunningServer;
  let s3: S3Client;
  let close: () => Promise<void>;
  const bucket = bucketName('ssec');

  before(async () => {
    ({ server, s3, close } = await liveServer({ inlineThreshold: 1024 }));
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(() => close());

  it('PutObject SSE-C echoes the algorithm and key MD5, and the ETag is not the MD5', async () => {
    const body = Buffer.from('test_data');
    const r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: body, ...ssec(KEY_A) }));
    assert.equal(r.SSECustomerAlgorithm, 'AES256');
    assert.equal(r.SSECustomerKeyMD5, md5b64(KEY_A));
    assert.equal(r.ServerSideEncryption, undefined);
    assert.match(r.ETag!, /^"[0-9a-f]{32}"$/);
    assert.notEqual(r.ETag, `"${md5hex(body)}"`);
    const again = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small2', Body: body, ...ssec(KEY_A) }));
    assert.notEqual(again.ETag, r.ETag);
  });

  it('GetObject SSE-C returns the bytes with the right key, and AWS errors otherwise', async () => {
    const body = randomBytes(3000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body, ...ssec(KEY_A) }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', ...ssec(KEY_A) }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);
    assert.equal(got.SSECustomerAlgorithm, 'AES256');
    assert.equal(got.SSECustomerKeyMD5, md5b64(KEY_A));
    const none = await s3Error(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
    assert.equal(none.status, 400);
    assert.equal(none.name, 'InvalidRequest');
    assert.equal(none.message, 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
    const wrong = await s3Error(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', ...ssec(KEY_B) })));
    assert.equal(wrong.status, 403);
    assert.equal(wrong.name, 'AccessDenied');
    assert.equal(wrong.message, 'Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.');
    const algo = await raw(server, { method: 'GET', path: `/${bucket}/k`, headers: { ...triad(KEY_A), 'x-amz-server-side-encryption-customer-algorithm': 'KMS' } });
    assert.equal(algo.status, 400);
    assert.equal(errorCode(algo.body), 'InvalidEncryptionAlgorithmError');
    assert.equal(xmlField(algo.body, 'Message'), 'The Encryption request you specified is not valid. Supported value: AES256.');
    assert.equal(xmlField(algo.body, 'ArgumentValue'), 'KMS');
    const badMd5 = await raw(server, { method: 'GET', path: `/${bucket}/k`, headers: { ...triad(KEY_A), 'x-amz-server-side-encryption-customer-key-md5': md5b64(KEY_B) } });
    assert.equal(xmlField(badMd5.body, 'Message'), 'The calculated MD5 hash of the key did not match the hash that was provided.');
  });

  it('HeadObject SSE-C needs the key and answers its MD5', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'h', Body: 'test_data', ...ssec(KEY_A) }));
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'h', ...ssec(KEY_A) }));
    assert.equal(h.ContentLength, 9);
    assert.equal(h.SSECustomerKeyMD5, md5b64(KEY_A));
    assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'h' })))).status, 400);
    assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'h', ...ssec(KEY_B) })))).status, 403);
  });

  it('GetObject with SSE-C headers on an unencrypted object is refused', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'x' }));
    const e = await s3Error(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain', ...ssec(KEY_A) })));
    assert.equal(e.name, 'InvalidRequest');
    assert.equal(e.message, 'The encryption parameters are not applicable to this object.');
  });

  it('PutObject SSE-C validation answers AWS errors', async () => {
    const both = await raw(server, { method: 'PUT', path: `/${bucket}/v`, body: 'x', headers: { ...triad(KEY_A), 'x-amz-server-side-encryption': 'AES256' } });
    assert.equal(errorCode(both.body), 'InvalidArgument');
    assert.equal(xmlField(both.body, 'Message'), 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified');
    assert.equal(xmlField(both.body, 'ArgumentValue'), 'AES256');
    const short = await raw(server, { method: 'PUT', path: `/${bucket}/v`, body: 'x', headers: { ...triad(KEY_A), 'x-amz-server-side-encryption-customer-key': randomBytes(16).toString('base64') } });
    assert.equal(xmlField(short.body, 'Message'), 'The secret key was invalid for the specified algorithm.');
    const noKey = await raw(server, { method: 'PUT', path: `/${bucket}/v`, body: 'x', headers: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' } });
    assert.equal(xmlField(noKey.body, 'Message'), 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.');
    assert.equal((await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'v' })))).status, 404);
  });

  it('stores no plaintext and no key at rest', async () => {
    const marker = Buffer.from('PLAINTEXT-MARKER-'.repeat(200));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'rest', Body: marker, ...ssec(KEY_A) }));
    const version = await server.deps.meta.getVersion(bucket, 'rest');
    assert.ok(version, 'the metadata store holds the object');
    const blobRows = await Promise.all(version.manifest.map((e) => server.deps.meta.getBlob(e.blob)));
    const meta = storedBytes([version, blobRows]);
    assert.ok(meta.includes(version.etag), 'the metadata as stored is inspected');
    for (const file of blobFiles(server)) assert.ok(!readFileSync(file).includes('PLAINTEXT-MARKER-'), file);
    assert.ok(!meta.includes(KEY_A) && !meta.includes(KEY_A.toString('base64')));
    assert.ok(!meta.includes(md5b64(KEY_A)));
  });

  it('ranged GetObject across segment boundaries returns exactly the bytes', async () => {
    const body = randomBytes(200_000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: body, ...ssec(KEY_A) }));
    for (const [a, b] of [[0, 0], [65535, 65536], [65530, 131080], [131071, 199999], [199990, 199999]]) {
      const got = await bytes(s3, { Bucket: bucket, Key: 'big', Range: `bytes=${a}-${b}`, ...ssec(KEY_A) });
      assert.deepEqual(got, body.subarray(a, b + 1), `bytes=${a}-${b}`);
    }
  });

  it('GetObject of a tampered encrypted blob fails and never returns wrong bytes', async () => {
    const body = randomBytes(150_000);
    const before = new Set(blobFiles(server));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tamper', Body: body, ...ssec(KEY_A) }));
    const [file] = blobFiles(server).filter((f) => !before.has(f));
    const stored = readFileSync(file);
    for (const at of [10, stored.length - 5]) {
      const bad = Buffer.from(stored);
      bad[at] ^= 0xff;
      writeFileSync(file, bad);
      const result = await bytes(s3, { Bucket: bucket, Key: 'tamper', ...ssec(KEY_A) }).then((b) => b, (e: Error) => e);
      assert.ok(result instanceof Error, `flip at ${at} must fail`);
    }
    writeFileSync(file, stored);
    assert.deepEqual(await bytes(s3, { Bucket: bucket, Key: 'tamper', ...ssec(KEY_A) }), body);
    const first = Buffer.from(stored);
    first[3] ^= 1;
    writeFileSync(file, first);
    const e = await s3Error(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'tamper', ...ssec(KEY_A) })));
    assert.equal(e.status, 500);
  });
});

describe('SSE-C transport rule', () => {
  it('PutObject SSE-C over plain HTTP is refused unless allowed', async () => {
    const { s3, close } = await liveServer({ allowInsecureSseC: false });
    try {
      const bucket = bucketName('ssec-tls');
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', ...ssec(KEY_A) })));
      assert.equal(e.status, 400);
      assert.equal(e.name, 'InvalidRequest');
      assert.equal(e.message, 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
    } finally {
      await close();
    }
  });
});

describe('SSE-C multipart uploads', () => {
  let s3: S3Client;
  let close: () => Promise<void>;
  const bucket = bucketName('ssec-mpu');

  before(async () => {
    ({ s3, close } = await liveServer({ minPartSize: 100_000 }));
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(() => close());

  it('UploadPart must present the upload\'s key (recorded errors)', async () => {
    const enc = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'm', ...ssec(KEY_A) }));
    assert.equal(enc.SSECustomerAlgorithm, 'AES256');
    assert.equal(enc.SSECustomerKeyMD5, md5b64(KEY_A));
    const part = { Bucket: bucket, Key: 'm', UploadId: enc.UploadId, PartNumber: 1, Body: 'x' };
    const missing = await s3Error(() => s3.send(new UploadPartCommand(part)));
    assert.equal(missing.name, 'InvalidRequest');
    assert.equal(missing.message, 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.');
    const wrong = await s3Error(() => s3.send(new UploadPartCommand({ ...part, ...ssec(KEY_B) })));
    assert.equal(wrong.message, 'The provided encryption parameters did not match the ones used originally.');
    const plain = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'p' }));
    const extra = await s3Error(() => s3.send(new UploadPartCommand({ ...part, Key: 'p', UploadId: plain.UploadId, ...ssec(KEY_A) })));
    assert.equal(extra.message, 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.');
  });

  it('a completed SSE-C upload reads back whole and across part and segment boundaries', async () => {
    const parts = [randomBytes(150_000), randomBytes(140_000), randomBytes(70_001)];
    const all = Buffer.concat(parts);
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp', ...ssec(KEY_A) }));
    const done = [];
    for (const [i, p] of parts.entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: c.UploadId, PartNumber: i + 1, Body: p, ...ssec(KEY_A) }));
      assert.equal(r.SSECustomerKeyMD5, md5b64(KEY_A));
      assert.notEqual(r.ETag, `"${md5hex(p)}"`);
      done.push({ ETag: r.ETag, PartNumber: i + 1 });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId: c.UploadId, MultipartUpload: { Parts: done } }));
    assert.deepEqual(await bytes(s3, { Bucket: bucket, Key: 'mp', ...ssec(KEY_A) }), all);
    for (const [a, b] of [[149_990, 150_010], [65_530, 290_010], [289_999, 290_000], [0, all.length - 1], [300_000, all.length - 1]]) {
      assert.deepEqual(await bytes(s3, { Bucket: bucket, Key: 'mp', Range: `bytes=${a}-${b}`, ...ssec(KEY_A) }), all.subarray(a, b + 1), `bytes=${a}-${b}`);
    }
    assert.deepEqual(await bytes(s3, { Bucket: bucket, Key: 'mp', PartNumber: 2, ...ssec(KEY_A) }), parts[1]);
    assert.equal((await s3Error(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp' })))).status, 400);
  });
});

describe('SSE-S3 and SSE-KMS', () => {
  let server: RunningServer;
  let s3: S3Client;
  let close: () => Promise<void>;
  const bucket = bucketName('sse-srv');

  before(async () => {
    ({ server, s3, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(() => close());

  it('PutObject SSE-S3 keeps the MD5 ETag, creates the master key, and GetObject decrypts', async () => {
    const body = randomBytes(100_000);
    assert.ok(!existsSync(join(server.dataDir, 'sse-master.key')));
    const r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 's3', Body: body, ServerSideEncryption: 'AES256' }));
    assert.equal(r.ServerSideEncryption, 'AES256');
    assert.equal(r.ETag, `"${md5hex(body)}"`);
    assert.equal(statSync(join(server.dataDir, 'sse-master.key')).mode & 0o777, 0o600);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 's3', Range: 'bytes=65000-70000' }));
    assert.equal(got.ServerSideEncryption, 'AES256');
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body.subarray(65000, 70001));
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 's3' }));
    assert.equal(h.ServerSideEncryption, 'AES256');
  });

  it('PutObject SSE-KMS names the key by ARN, echoes bucket keys, and its ETag is not the MD5', async () => {
    const key = server.deps.sseKeys.createKey({ description: 'test' });
    const arn = `arn:aws:kms:us-east-1:${server.deps.config.rootAccountId}:key/${key.id}`;
    const body = Buffer.from('test-sse');
    const r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms', Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.id, BucketKeyEnabled: true }));
    assert.equal(r.ServerSideEncryption, 'aws:kms');
    assert.equal(r.SSEKMSKeyId, arn);
    assert.equal(r.BucketKeyEnabled, true);
    assert.notEqual(r.ETag, `"${md5hex(body)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms' }));
    assert.equal(got.SSEKMSKeyId, arn);
    assert.equal(await got.Body!.transformToString(), 'test-sse');
    const byArn = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms2', Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: arn }));
    assert.equal(byArn.SSEKMSKeyId, arn);
    const dflt = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms3', Body: body, ServerSideEncryption: 'aws:kms' }));
    assert.match(dflt.SSEKMSKeyId!, /^arn:aws:kms:us-east-1:\d{12}:key\/[0-9a-f-]{36}$/);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms3' }))).Body!.transformToString(), 'test-sse');
  });

  it('SSE-KMS with unknown or disabled keys answers the recorded KMS errors', async () => {
    const fake = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'fake-key-id' })));
    assert.equal(fake.name, 'KMS.NotFoundException');
    assert.equal(fake.message, "Invalid keyId 'fake-key-id'");
    assert.equal(fake.status, 400);
    const uuid = '134f2428-cec1-4b25-a1ae-9048164dba47';
    const missing = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: uuid })));
    assert.equal(missing.message, `Key 'arn:aws:kms:us-east-1:${server.deps.config.rootAccountId}:key/${uuid}' does not exist`);
    const key = server.deps.sseKeys.createKey();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dis', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.id }));
    server.deps.sseKeys.setKeyState(key.id, 'Disabled');
    const get = await s3Error(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dis' })));
    assert.equal(get.name, 'KMS.DisabledException');
    assert.equal(get.message, `arn:aws:kms:us-east-1:${server.deps.config.rootAccountId}:key/${key.id} is disabled.`);
    const put = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dis2', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.id })));
    assert.equal(put.name, 'KMS.DisabledException');
    server.deps.sseKeys.setKeyState(key.id, 'PendingDeletion');
    assert.equal((await s3Error(() => s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dis' })))).name, 'KMS.KMSInvalidStateException');
  });

  it('an SSE-KMS multipart upload encrypts its parts under the upload\'s key', async () => {
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'kmp', ServerSideEncryption: 'aws:kms', BucketKeyEnabled: true }));
    assert.equal(c.ServerSideEncryption, 'aws:kms');
    assert.equal(c.BucketKeyEnabled, true);
    const p = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'kmp', UploadId: c.UploadId, PartNumber: 1, Body: 'test-sse' }));
    assert.equal(p.ServerSideEncryption, 'aws:kms');
    assert.equal(p.SSEKMSKeyId, c.SSEKMSKeyId);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'kmp', UploadId: c.UploadId, MultipartUpload: { Parts: [{ ETag: p.ETag, PartNumber: 1 }] } }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kmp' }));
    assert.equal(got.ServerSideEncryption, 'aws:kms');
    assert.equal(await got.Body!.transformToString(), 'test-sse');
  });

  it('CompleteMultipartUpload echoes SSE-S3 and SSE-KMS (key ARN, bucket key) and no SSE-C headers, on retries and long answers too', async () => {
    const complete = async (client: S3Client, key: string, enc: Record<string, unknown>, partEnc: Record<string, unknown> = {}) => {
      const c = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...enc }));
      const p = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: c.UploadId, PartNumber: 1, Body: 'part', ...partEnc }));
      const input = { Bucket: bucket, Key: key, UploadId: c.UploadId, MultipartUpload: { Parts: [{ ETag: p.ETag, PartNumber: 1 }] } };
      return [await client.send(new CompleteMultipartUploadCommand(input)), await client.send(new CompleteMultipartUploadCommand(input))];
    };
    for (const r of await complete(s3, 'c-s3', { ServerSideEncryption: 'AES256' })) {
      assert.equal(r.ServerSideEncryption, 'AES256');
      assert.equal(r.SSEKMSKeyId, undefined);
    }
    const key = server.deps.sseKeys.createKey();
    const arn = `arn:aws:kms:us-east-1:${server.deps.config.rootAccountId}:key/${key.id}`;
    for (const r of await complete(s3, 'c-kms', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.id, BucketKeyEnabled: true })) {
      assert.equal(r.ServerSideEncryption, 'aws:kms');
      assert.equal(r.SSEKMSKeyId, arn);
      assert.equal(r.BucketKeyEnabled, true);
    }
    for (const r of await complete(s3, 'c-ssec', ssec(KEY_A), ssec(KEY_A))) {
      assert.equal(r.ServerSideEncryption, undefined);
      assert.equal(r.$metadata.httpStatusCode, 200);
    }
    for (const r of await complete(s3, 'c-plain', {})) assert.equal(r.ServerSideEncryption, undefined);
    // A Complete answered the long way (200 and whitespace first) still carries them.
    const late = await liveServer({ keepAliveAfterMs: 0 });
    try {
      await late.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const [r] = await complete(late.s3, 'c-late', { ServerSideEncryption: 'AES256' });
      assert.equal(r.ServerSideEncryption, 'AES256');
    } finally {
      await late.close();
    }
  });

  it('PutObject with an unknown x-amz-server-side-encryption is refused', async () => {
    const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x', ServerSideEncryption: 'AES128' as 'AES256' })));
    assert.equal(e.name, 'InvalidArgument');
    assert.equal(e.raw.ArgumentValue, 'AES128');
  });
});

describe('SSE-S3 master key from configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-master-'));
  const dataDir = join(dir, 'data');
  const keyFile = join(dir, 'master.key');
  const otherKey = join(dir, 'other.key');
  writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n');
  writeFileSync(otherKey, randomBytes(32).toString('base64'));
  let meta: TestMeta;
  before(async () => (meta = await testMeta()));
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await meta?.drop();
  });
  const body = randomBytes(70_000);

  it('masterKeyFile encrypts SSE-S3 objects with that key: none is generated in the data directory, and only that key reads them', async () => {
    const first = await liveServer({ dataDir, masterKeyFile: keyFile, ...meta.options });
    const Bucket = bucketName('master');
    try {
      await first.s3.send(new CreateBucketCommand({ Bucket }));
      const r = await first.s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: body, ServerSideEncryption: 'AES256' }));
      assert.equal(r.ServerSideEncryption, 'AES256');
      assert.deepEqual(await bytes(first.s3, { Bucket, Key: 'k' }), body);
      assert.ok(!existsSync(join(dataDir, 'sse-master.key')), 'no key generated beside the data');
    } finally {
      await first.close();
    }
    const other = await liveServer({ dataDir, masterKeyFile: otherKey, ...meta.options });
    try {
      await other.s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
      await assert.rejects(bytes(other.s3, { Bucket, Key: 'k' }), 'another master key cannot read it');
    } finally {
      await other.close();
    }
    const again = await liveServer({ dataDir, masterKeyFile: keyFile, ...meta.options });
    try {
      assert.deepEqual(await bytes(again.s3, { Bucket, Key: 'k' }), body);
    } finally {
      await again.close();
    }
  });

  it('a masterKeyFile that is missing or not 32 bytes of base64 fails the start, naming the file', async () => {
    const missing = join(dir, 'missing.key');
    await assert.rejects(startTestServer({ port: 0, jobIntervalMs: 0, masterKeyFile: missing }), new RegExp(`SSE master key file ${missing}: not found`));
    const short = join(dir, 'short.key');
    writeFileSync(short, randomBytes(16).toString('base64'));
    await assert.rejects(startTestServer({ port: 0, jobIntervalMs: 0, masterKeyFile: short }), new RegExp(`SSE master key file ${short}: expected 32 bytes of base64`));
  });
});
