import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand, CreateBucketCommand, GetBucketAclCommand, GetBucketOwnershipControlsCommand, GetObjectAclCommand, GetPublicAccessBlockCommand,
  PutBucketAclCommand, PutObjectAclCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { resolveConfig } from '../../src/config.js';
import type { RunningServer } from '../../src/index.js';
import { bucketName, liveServer, s3Error, testMeta } from '../helpers.js';

/**
 * `bucketDefaults`: what CreateBucket gives a new bucket. `aws` (the default)
 * is BucketOwnerEnforced and Block Public Access on, as AWS since April 2023;
 * `legacy` is neither, as AWS buckets created before: GetBucketOwnershipControls
 * and GetPublicAccessBlock answer 404 as AWS does once they are deleted
 * (recorded: test_crud_bucket_ownership_controls, test_crud_public_access_block),
 * and ACLs are honoured as under ObjectWriter.
 */
const OWNER = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be';
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const ownerFull = { Grantee: { ID: OWNER, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' };
const allUsersRead = { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' };
const grants = (r: { Grants?: unknown[] }) => JSON.parse(JSON.stringify(r.Grants));

async function expectError(fn: () => Promise<unknown>, status: number, code: string, message?: string, fields: Record<string, string> = {}): Promise<void> {
  const e = await s3Error(fn);
  assert.equal(e.status, status, code);
  assert.equal(e.name, code);
  if (message !== undefined) assert.equal(e.message, message);
  for (const [k, v] of Object.entries(fields)) assert.equal(e.raw[k], v, k);
}

/** An unsigned GET, as an anonymous browser makes it. */
const anonymousGet = (server: RunningServer, bucket: string, key: string) => fetch(`${server.url}/${bucket}/${encodeURIComponent(key)}`);

describe('bucketDefaults: the setting', () => {
  it('defaults to aws; --bucket-defaults, TESSERA_BUCKET_DEFAULTS and the config file set it; any other value is an error naming it', () => {
    assert.equal(resolveConfig({}, {}).bucketDefaults, 'aws');
    assert.equal(resolveConfig({}, { TESSERA_BUCKET_DEFAULTS: 'legacy' }).bucketDefaults, 'legacy');
    assert.equal(resolveConfig({ bucketDefaults: 'aws' }, { TESSERA_BUCKET_DEFAULTS: 'legacy' }).bucketDefaults, 'aws');
    assert.throws(() => resolveConfig({}, { TESSERA_BUCKET_DEFAULTS: 'Legacy' }), /bucketDefaults: expected aws or legacy, got Legacy/);
    assert.throws(() => resolveConfig({ bucketDefaults: 'pre-2023' }, {}), /bucketDefaults: expected aws or legacy, got pre-2023/);
  });
});

describe('bucketDefaults: legacy', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  before(async () => {
    ({ s3, server, close } = await liveServer({ bucketDefaults: 'legacy' }));
  });
  after(() => close?.());

  it('a new bucket has no ownership controls and no public access block: 404 with the recorded codes and messages', async () => {
    const b = bucketName('legacy');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await expectError(() => s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b })), 404, 'OwnershipControlsNotFoundError',
      'The bucket ownership controls were not found', { BucketName: b });
    await expectError(() => s3.send(new GetPublicAccessBlockCommand({ Bucket: b })), 404, 'NoSuchPublicAccessBlockConfiguration',
      'The public access block configuration was not found', { BucketName: b });
  });

  it('PutObject with ACL public-read is honoured: GetObjectAcl shows the grant and an anonymous GET reads the object', async () => {
    const b = bucketName('legacy');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'pub', Body: 'public bytes', ACL: 'public-read' }));
    const acl = await s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'pub' }));
    assert.deepEqual(acl.Owner, { ID: OWNER });
    assert.deepEqual(grants(acl), [ownerFull, allUsersRead]);
    const r = await anonymousGet(server, b, 'pub');
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'public bytes');

    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'private', Body: 'x' }));
    const denied = await anonymousGet(server, b, 'private');
    assert.equal(denied.status, 403, 'an object without a public grant stays private');
    await denied.arrayBuffer();
  });

  it('CopyObject then PutObjectAcl (what `s3cmd cp` does) and PutBucketAcl succeed', async () => {
    const b = bucketName('legacy');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'data' }));
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src` }));
    await s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'dst', ACL: 'private' }));
    assert.deepEqual(grants(await s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'dst' }))), [ownerFull]);
    await s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }));
    assert.deepEqual(grants(await s3.send(new GetBucketAclCommand({ Bucket: b }))), [ownerFull, allUsersRead]);
  });

  it('CreateBucket with ACL public-read works and the bucket has that ACL', async () => {
    const b = bucketName('legacy');
    await s3.send(new CreateBucketCommand({ Bucket: b, ACL: 'public-read' }));
    assert.deepEqual(grants(await s3.send(new GetBucketAclCommand({ Bucket: b }))), [ownerFull, allUsersRead]);
    await expectError(() => s3.send(new GetPublicAccessBlockCommand({ Bucket: b })), 404, 'NoSuchPublicAccessBlockConfiguration');
  });

  it('an explicit x-amz-object-ownership is still stored (and BucketOwnerEnforced still refuses ACLs)', async () => {
    const b = bucketName('legacy');
    await s3.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: 'BucketOwnerEnforced' }));
    const o = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
    assert.deepEqual(o.OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    await expectError(() => s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'public-read' })), 400, 'AccessControlListNotSupported',
      'The bucket does not allow ACLs');
  });
});

describe('bucketDefaults: aws (the default)', () => {
  let s3: S3Client;
  let close: () => Promise<void>;
  before(async () => {
    ({ s3, close } = await liveServer());
  });
  after(() => close?.());

  it('a new bucket is BucketOwnerEnforced with every Block Public Access flag on', async () => {
    const b = bucketName('aws');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const o = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
    assert.deepEqual(o.OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    const pab = await s3.send(new GetPublicAccessBlockCommand({ Bucket: b }));
    assert.deepEqual(pab.PublicAccessBlockConfiguration, { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
  });

  it('ACLs are refused: PutObject public-read, PutObjectAcl after a copy, CreateBucket public-read', async () => {
    const b = bucketName('aws');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await expectError(() => s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'public-read' })), 400, 'AccessControlListNotSupported',
      'The bucket does not allow ACLs');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'data' }));
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src` }));
    await expectError(() => s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'dst', ACL: 'private' })), 400, 'AccessControlListNotSupported');
    await expectError(() => s3.send(new CreateBucketCommand({ Bucket: bucketName('aws'), ACL: 'public-read' })), 400, 'InvalidBucketAclWithObjectOwnership');
  });
});

describe('bucketDefaults: existing buckets keep their settings', () => {
  it('a bucket created under aws stays BucketOwnerEnforced after a restart in legacy mode; a new one there is legacy', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bucket-defaults-'));
    const meta = await testMeta();
    try {
      const b = bucketName('keep');
      const first = await liveServer({ dataDir, ...meta.options });
      try {
        await first.s3.send(new CreateBucketCommand({ Bucket: b }));
      } finally {
        await first.close();
      }
      const second = await liveServer({ dataDir, ...meta.options, bucketDefaults: 'legacy' });
      try {
        const o = await second.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
        assert.deepEqual(o.OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
        const pab = await second.s3.send(new GetPublicAccessBlockCommand({ Bucket: b }));
        assert.equal(pab.PublicAccessBlockConfiguration?.BlockPublicAcls, true);
        await expectError(() => second.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'public-read' })), 400, 'AccessControlListNotSupported');
        const fresh = bucketName('keep');
        await second.s3.send(new CreateBucketCommand({ Bucket: fresh }));
        await expectError(() => second.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: fresh })), 404, 'OwnershipControlsNotFoundError');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await meta.drop();
    }
  });
});
