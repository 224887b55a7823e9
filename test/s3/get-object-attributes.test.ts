import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectAttributesCommand,
  HeadObjectCommand, PutBucketPolicyCommand, PutBucketVersioningCommand, PutObjectCommand, UploadPartCommand,
  type ChecksumAlgorithm, type ChecksumType, type CompletedPart, type GetObjectAttributesCommandInput, type ObjectAttributes, type S3Client,
} from '@aws-sdk/client-s3';
import type { RunningServer } from '../../src/index.js';
import { bucketName, client, liveServer, s3Error } from '../helpers.js';
import { raw } from './raw-signed.js';

/**
 * GetObjectAttributes against recorded answers of AWS (oracle
 * test_s3.snapshot.json: TestS3::test_get_object_attributes,
 * test_get_object_attributes_versioned, test_get_object_attributes_with_space,
 * TestS3MultipartUploadChecksum::test_complete_multipart_parts_checksum_composite[CRC32]
 * and ..._full_object[CRC32]): the values below are what the real service
 * returned for the same bytes.
 */
const ALL: ObjectAttributes[] = ['StorageClass', 'ETag', 'ObjectSize', 'ObjectParts', 'Checksum'];
const B = { accountId: '111111111111', canonicalId: 'b'.repeat(64), key: 'AKIDGOATTRB00000', secret: 'secret-of-account-b' };

describe('GetObjectAttributes', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  let dir: string;
  const Bucket = bucketName('goa');
  // 5 MiB + 1 of 'a' twice and 'aaaaaaaaaa': the oracle's parts.
  const big = Buffer.alloc(5242881, 'a');
  const tail = Buffer.alloc(10, 'a');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-goa-'));
    const accountsFile = join(dir, 'accounts.json');
    writeFileSync(accountsFile, JSON.stringify([{
      accountId: B.accountId, canonicalId: B.canonicalId, displayName: 'account-b', keys: [{ accessKeyId: B.key, secretAccessKey: B.secret }],
    }]));
    ({ s3, server, close } = await liveServer({ accountsFile }));
    await s3.send(new CreateBucketCommand({ Bucket }));
  });
  after(async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  });

  const attrs = (input: Partial<GetObjectAttributesCommandInput> & { Key: string }) =>
    s3.send(new GetObjectAttributesCommand({ Bucket, ObjectAttributes: ALL, ...input }));

  async function multipart(Key: string, ChecksumAlgorithm?: ChecksumAlgorithm, ChecksumType?: ChecksumType) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm, ChecksumType }));
    const parts: CompletedPart[] = [];
    for (const [i, Body] of [big, big, tail].entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm }));
      parts.push({ PartNumber: i + 1, ETag: r.ETag!, ...(ChecksumAlgorithm ? { ChecksumCRC32: r.ChecksumCRC32 } : {}) });
    }
    return s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
  }

  it('a single-part object: unquoted ETag, its checksum, size and class, no ObjectParts, Last-Modified (recorded: object-attrs)', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'data.txt', Body: '69\n420\n', ChecksumAlgorithm: 'CRC32' }));
    const r = await attrs({ Key: 'data.txt' });
    assert.equal(r.ETag, 'e92499db864217242396e8ef766079a9');
    assert.deepEqual(r.Checksum, { ChecksumCRC32: 'WC+ANw==', ChecksumType: 'FULL_OBJECT' });
    assert.equal(r.ObjectSize, 7);
    assert.equal(r.StorageClass, 'STANDARD');
    assert.equal(r.ObjectParts, undefined);
    assert.equal(r.VersionId, undefined);
    assert.ok(r.LastModified instanceof Date && Math.abs(r.LastModified.getTime() - Date.now()) < 60_000);
  });

  it('the root element, its namespace and AWS\'s element order on the wire; names with spaces (recorded: get-attrs-with-whitespace)', async () => {
    const r = await raw(server, { method: 'GET', path: `/${Bucket}/data.txt`, query: { attributes: '' }, headers: { 'x-amz-object-attributes': 'ObjectSize, StorageClass ,ETag,Checksum' } });
    assert.equal(r.status, 200);
    assert.match(r.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<GetObjectAttributesResponse xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/">/);
    assert.ok(r.body.endsWith('<ETag>e92499db864217242396e8ef766079a9</ETag><Checksum><ChecksumCRC32>WC+ANw==</ChecksumCRC32><ChecksumType>FULL_OBJECT</ChecksumType></Checksum>'
      + '<StorageClass>STANDARD</StorageClass><ObjectSize>7</ObjectSize></GetObjectAttributesResponse>'), r.body);
    assert.equal(r.headers['x-amz-version-id'], undefined);
    assert.ok(r.headers['last-modified']);
  });

  it('an object stored without a client checksum: the CRC64NVME the server computed', async () => {
    const plain = client(server, { requestChecksumCalculation: 'WHEN_REQUIRED' });
    try {
      await plain.send(new PutObjectCommand({ Bucket, Key: 'plain', Body: 'no checksum from the client' }));
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'plain', ChecksumMode: 'ENABLED' }));
      assert.ok(head.ChecksumCRC64NVME);
      const r = await attrs({ Key: 'plain', ObjectAttributes: ['Checksum', 'ObjectSize'] });
      assert.deepEqual(r.Checksum, { ChecksumCRC64NVME: head.ChecksumCRC64NVME, ChecksumType: 'FULL_OBJECT' });
      assert.equal(r.ObjectSize, 27);
      assert.equal(r.ETag, undefined);
      assert.equal(r.StorageClass, undefined);
    } finally {
      plain.destroy();
    }
  });

  it('a COMPOSITE multipart object lists its parts, a page at a time (recorded: parts_checksum_composite[CRC32])', async () => {
    await multipart('composite', 'CRC32', 'COMPOSITE');
    const r = await attrs({ Key: 'composite' });
    assert.equal(r.ETag, '4d45984fc3feb2ac9b22683c49674b56-3');
    assert.deepEqual(r.Checksum, { ChecksumCRC32: '5FRUiw==', ChecksumType: 'COMPOSITE' });
    assert.equal(r.ObjectSize, 2 * 5242881 + 10);
    // The JS SDK models the markers as strings (botocore, as the recording shows, as integers): the XML is the same.
    assert.deepEqual(r.ObjectParts, {
      IsTruncated: false, MaxParts: 1000, NextPartNumberMarker: '3', PartNumberMarker: '0', TotalPartsCount: 3,
      Parts: [
        { ChecksumCRC32: 'NRU+Sw==', PartNumber: 1, Size: 5242881 },
        { ChecksumCRC32: 'NRU+Sw==', PartNumber: 2, Size: 5242881 },
        { ChecksumCRC32: 'TBHN8A==', PartNumber: 3, Size: 10 },
      ],
    });
    const first = await attrs({ Key: 'composite', ObjectAttributes: ['ObjectParts'], MaxParts: 2 });
    assert.deepEqual(first.ObjectParts, {
      IsTruncated: true, MaxParts: 2, NextPartNumberMarker: '2', PartNumberMarker: '0', TotalPartsCount: 3,
      Parts: [{ ChecksumCRC32: 'NRU+Sw==', PartNumber: 1, Size: 5242881 }, { ChecksumCRC32: 'NRU+Sw==', PartNumber: 2, Size: 5242881 }],
    });
    const next = await attrs({ Key: 'composite', ObjectAttributes: ['ObjectParts'], MaxParts: 2, PartNumberMarker: '2' });
    assert.deepEqual(next.ObjectParts, {
      IsTruncated: false, MaxParts: 2, NextPartNumberMarker: '3', PartNumberMarker: '2', TotalPartsCount: 3,
      Parts: [{ ChecksumCRC32: 'TBHN8A==', PartNumber: 3, Size: 10 }],
    });
    const bad = await s3Error(() => attrs({ Key: 'composite', ObjectAttributes: ['ObjectParts'], PartNumberMarker: 'x' }));
    assert.equal(bad.status, 400);
    assert.equal(bad.name, 'InvalidArgument');
  });

  it('a FULL_OBJECT multipart object, or one without a declared checksum, gives only PartsCount (recorded: parts_checksum_full_object[CRC32], object-attrs-multiparts)', async () => {
    await multipart('full', 'CRC32', 'FULL_OBJECT');
    const r = await attrs({ Key: 'full', MaxParts: 3 });
    assert.equal(r.ETag, '4d45984fc3feb2ac9b22683c49674b56-3');
    assert.deepEqual(r.Checksum, { ChecksumCRC32: 'qSEQSA==', ChecksumType: 'FULL_OBJECT' });
    assert.deepEqual(r.ObjectParts, { TotalPartsCount: 3 });
    await multipart('default');
    const d = await attrs({ Key: 'default' });
    assert.deepEqual(d.ObjectParts, { TotalPartsCount: 3 });
    assert.equal(d.Checksum?.ChecksumType, 'FULL_OBJECT');
    assert.ok(d.Checksum?.ChecksumCRC64NVME);
  });

  it('versions: the current one with x-amz-version-id, a delete marker 404 or 405 with x-amz-delete-marker, an older one by versionId (recorded: _versioned)', async () => {
    const vb = bucketName('goa-v');
    await s3.send(new CreateBucketCommand({ Bucket: vb }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const Key = 'key-attrs-versioned';
    const v1 = await s3.send(new PutObjectCommand({ Bucket: vb, Key, Body: '69\n420\n', ChecksumAlgorithm: 'CRC32' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: vb, Key, Body: 'version 2', ChecksumAlgorithm: 'CRC32' }));
    const cur = await attrs({ Bucket: vb, Key });
    assert.equal(cur.VersionId, v2.VersionId);
    assert.equal(cur.ETag, 'd4ca1ed7571e2e7b1f1c375bd50fa220');
    assert.deepEqual(cur.Checksum, { ChecksumCRC32: '44ffIg==', ChecksumType: 'FULL_OBJECT' });
    assert.equal(cur.ObjectSize, 9);
    const del = await s3.send(new DeleteObjectCommand({ Bucket: vb, Key }));
    const gone = await s3Error(() => attrs({ Bucket: vb, Key, ObjectAttributes: ['StorageClass', 'ETag', 'ObjectSize'] }));
    assert.equal(gone.status, 404);
    assert.equal(gone.name, 'NoSuchKey');
    assert.equal(gone.raw.Key, Key);
    assert.equal(gone.raw.$response?.headers?.['x-amz-delete-marker'], 'true');
    const marker = await s3Error(() => attrs({ Bucket: vb, Key, VersionId: del.VersionId }));
    assert.equal(marker.status, 405);
    assert.equal(marker.name, 'MethodNotAllowed');
    assert.equal(marker.raw.$response?.headers?.['x-amz-delete-marker'], 'true');
    const old = await attrs({ Bucket: vb, Key, VersionId: v1.VersionId, ObjectAttributes: ['StorageClass', 'ETag', 'ObjectSize'] });
    assert.equal(old.VersionId, v1.VersionId);
    assert.equal(old.ETag, 'e92499db864217242396e8ef766079a9');
    assert.equal(old.ObjectSize, 7);
    assert.equal(old.Checksum, undefined);
    const invalid = await s3Error(() => attrs({ Bucket: vb, Key, VersionId: 'not-a-version' }));
    assert.equal(invalid.name, 'InvalidArgument');
  });

  it('an SSE-C object needs its key, the right one', async () => {
    const key = Buffer.alloc(32, 7);
    const sse = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') };
    await s3.send(new PutObjectCommand({ Bucket, Key: 'ssec', Body: 'secret bytes', ...sse }));
    const without = await s3Error(() => attrs({ Key: 'ssec' }));
    assert.equal(without.status, 400);
    assert.equal(without.name, 'InvalidRequest');
    const other = Buffer.alloc(32, 9);
    const wrong = await s3Error(() => attrs({ Key: 'ssec', SSECustomerAlgorithm: 'AES256', SSECustomerKey: other.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(other).digest('base64') }));
    assert.equal(wrong.status, 403);
    const r = await attrs({ Key: 'ssec', ...sse, ObjectAttributes: ['ObjectSize', 'ETag'] });
    assert.equal(r.ObjectSize, 12);
    assert.match(r.ETag!, /^[0-9a-f]{32}$/);
  });

  it('x-amz-object-attributes: missing is InvalidRequest, an unknown or miscased name InvalidArgument; before the key is looked up', async () => {
    const none = await raw(server, { method: 'GET', path: `/${Bucket}/no-such-key`, query: { attributes: '' } });
    assert.equal(none.status, 400);
    assert.match(none.body, /<Code>InvalidRequest<\/Code><Message>The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty<\/Message>/);
    const bad = await s3Error(() => attrs({ Key: 'data.txt', ObjectAttributes: ['ETag', 'etag' as ObjectAttributes] }));
    assert.equal(bad.status, 400);
    assert.equal(bad.name, 'InvalidArgument');
    assert.equal(bad.message, 'Invalid attribute name specified.');
    assert.equal(bad.raw.ArgumentValue, 'etag');
    const missing = await s3Error(() => attrs({ Key: 'no-such-key' }));
    assert.equal(missing.name, 'NoSuchKey');
  });

  it('another account needs s3:GetObject and s3:GetObjectAttributes; anonymous is refused', async () => {
    const b = client(server, { credentials: { accessKeyId: B.key, secretAccessKey: B.secret } });
    const anon = client(server, { credentials: { accessKeyId: '', secretAccessKey: '' }, signer: { sign: async (r: unknown) => r } });
    const allow = (Action: string[]) => s3.send(new PutBucketPolicyCommand({
      Bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B.accountId}:root` }, Action, Resource: `arn:aws:s3:::${Bucket}/*` }] }),
    }));
    const asB = () => b.send(new GetObjectAttributesCommand({ Bucket, Key: 'data.txt', ObjectAttributes: ['ETag'] }));
    try {
      assert.equal((await s3Error(asB)).name, 'AccessDenied');
      assert.equal((await s3Error(() => anon.send(new GetObjectAttributesCommand({ Bucket, Key: 'data.txt', ObjectAttributes: ['ETag'] })))).name, 'AccessDenied');
      await allow(['s3:GetObjectAttributes']);
      assert.equal((await s3Error(asB)).name, 'AccessDenied');
      await allow(['s3:GetObject']);
      assert.equal((await s3Error(asB)).name, 'AccessDenied');
      await allow(['s3:GetObject', 's3:GetObjectAttributes']);
      assert.equal((await asB()).ETag, 'e92499db864217242396e8ef766079a9');
      const owner = await s3Error(() => b.send(new GetObjectAttributesCommand({ Bucket, Key: 'data.txt', ObjectAttributes: ['ETag'], ExpectedBucketOwner: B.accountId })));
      assert.equal(owner.name, 'AccessDenied');
    } finally {
      b.destroy();
      anon.destroy();
    }
  });
});
