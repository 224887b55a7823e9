import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketOwnershipControlsCommand, DeleteObjectCommand,
  DeletePublicAccessBlockCommand, GetBucketAclCommand, GetBucketOwnershipControlsCommand, GetObjectAclCommand, GetPublicAccessBlockCommand,
  PutBucketAclCommand, PutBucketOwnershipControlsCommand, PutBucketVersioningCommand, PutObjectAclCommand, PutObjectCommand, PutPublicAccessBlockCommand,
  S3Client, UploadPartCommand, DeletePublicAccessBlockCommand as DeletePab, type AccessControlPolicy,
} from '@aws-sdk/client-s3';
import { bucketName, liveServer, s3Error } from '../helpers.js';

/** ACLs, Object Ownership and Block Public Access, against AWS's recorded answers. */
let s3: S3Client;
let close: () => Promise<void>;
const OWNER = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be';
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const ownerFull = { Grantee: { ID: OWNER, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' };
const group = (URI: string, Permission: string) => ({ Grantee: { Type: 'Group', URI }, Permission });

before(async () => {
  const live = await liveServer();
  s3 = live.s3;
  close = live.close;
});
after(() => close());

async function bucket(open: boolean): Promise<string> {
  const name = bucketName('acl');
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (open) {
    await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: name }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: name }));
  }
  return name;
}

const grants = (r: { Grants?: unknown[] }) => JSON.parse(JSON.stringify(r.Grants));

async function rejects(fn: () => Promise<unknown>, name: string, message?: string, fields: Record<string, string> = {}): Promise<void> {
  const e = await s3Error(fn);
  assert.equal(e.status, name === 'MethodNotAllowed' ? 405 : name === 'NoSuchKey' ? 404 : 400, name);
  assert.equal(e.name, name);
  if (message !== undefined) assert.equal(e.message, message);
  for (const [k, v] of Object.entries(fields)) assert.equal(e.raw[k], v, k);
}

describe('ACLs', () => {
  it('GetBucketAcl / PutBucketAcl: canned, grant headers, AccessControlPolicy (recorded)', async () => {
    const b = await bucket(true);
    await s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }));
    let r = await s3.send(new GetBucketAclCommand({ Bucket: b }));
    assert.deepEqual(r.Owner, { ID: OWNER });
    assert.deepEqual(grants(r), [ownerFull, group(ALL_USERS, 'READ')]);
    await s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' }));
    assert.deepEqual(grants(await s3.send(new GetBucketAclCommand({ Bucket: b }))), [ownerFull]);
    await s3.send(new PutBucketAclCommand({ Bucket: b, GrantRead: `uri="${LOG_DELIVERY}"` }));
    assert.deepEqual(grants(await s3.send(new GetBucketAclCommand({ Bucket: b }))), [group(LOG_DELIVERY, 'READ')]);
    const acp = { Owner: { ID: OWNER }, Grants: [ownerFull, group(LOG_DELIVERY, 'WRITE')] } as AccessControlPolicy;
    await s3.send(new PutBucketAclCommand({ Bucket: b, AccessControlPolicy: acp }));
    r = await s3.send(new GetBucketAclCommand({ Bucket: b }));
    assert.deepEqual(grants(r), [ownerFull, group(LOG_DELIVERY, 'WRITE')]);
  });

  for (const target of ['bucket', 'object'] as const) {
    it(`Put${target === 'bucket' ? 'Bucket' : 'Object'}Acl: bad canned ACL, grants and policies (recorded)`, async () => {
      const b = await bucket(false);
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k' }));
      const put = (input: object) => target === 'bucket'
        ? s3.send(new PutBucketAclCommand({ Bucket: b, ...input }))
        : s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ...input }));
      await rejects(() => put({ ACL: 'fake-acl' }), 'InvalidArgument', undefined, { ArgumentName: 'x-amz-acl', ArgumentValue: 'fake-acl' });
      if (target === 'object') await rejects(() => s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', ACL: 'fake-acl' as never })), 'InvalidArgument', undefined, { ArgumentName: 'x-amz-acl' });
      await rejects(() => put({ GrantWrite: 'uri="http://acs.amazonaws.com/groups/s3/FakeGroup"' }), 'InvalidArgument', 'Invalid group uri', { ArgumentName: 'uri', ArgumentValue: 'http://acs.amazonaws.com/groups/s3/FakeGroup' });
      await rejects(() => put({ GrantWrite: 'fakekey="1234"' }), 'InvalidArgument', 'Argument format not recognized', { ArgumentName: 'x-amz-grant-write', ArgumentValue: 'fakekey="1234"' });
      await rejects(() => put({ GrantWrite: 'id="wrong-id"' }), 'InvalidArgument', 'Invalid id', { ArgumentName: 'id', ArgumentValue: 'wrong-id' });
      const acp: any = { Grants: [group(LOG_DELIVERY, 'WRITE')] };
      const MALFORMED = 'The XML you provided was not well-formed or did not validate against our published schema';
      await rejects(() => put({ AccessControlPolicy: acp }), 'MalformedACLError', MALFORMED);
      acp.Owner = { ID: OWNER };
      acp.Grants[0].Permission = 'WRONG-PERMISSION';
      await rejects(() => put({ AccessControlPolicy: acp }), 'MalformedACLError', MALFORMED);
      acp.Owner = { ID: 'wrong-id' };
      acp.Grants[0].Permission = 'FULL_CONTROL';
      await rejects(() => put({ AccessControlPolicy: acp }), 'InvalidArgument', 'Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: 'wrong-id' });
      acp.Owner = { ID: OWNER };
      acp.Grants[0].Grantee.URI = 'http://acs.amazonaws.com/groups/s3/FakeGroup';
      await rejects(() => put({ AccessControlPolicy: acp }), 'InvalidArgument', 'Invalid group uri', { ArgumentName: 'Group/URI' });
      acp.Grants[0].Grantee = { Type: 'CanonicalUser', ID: 'wrong-id' };
      await rejects(() => put({ AccessControlPolicy: acp }), 'InvalidArgument', 'Invalid id', { ArgumentName: 'CanonicalUser/ID' });
      acp.Grants[0].Grantee.Type = 'BadType';
      await rejects(() => put({ AccessControlPolicy: acp }), 'MalformedACLError');
      await rejects(() => put({ AccessControlPolicy: {} }), 'MalformedACLError');
      await rejects(() => put({}), 'MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
      await rejects(() => put({ ACL: 'private', GrantRead: `uri="${LOG_DELIVERY}"` }), 'InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
      await rejects(() => put({ ACL: 'private', AccessControlPolicy: { Owner: { ID: OWNER }, Grants: [ownerFull] } }), 'UnexpectedContent', 'This request does not support content');
      // Well formed, but this bucket enforces ownership: ACLs cannot be set.
      await rejects(() => put({ ACL: 'public-read' }), 'AccessControlListNotSupported', 'The bucket does not allow ACLs');
    });
  }

  it('GetObjectAcl / PutObjectAcl: default, canned, grants, policy (recorded)', async () => {
    const b = await bucket(true);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'object-key-acl' }));
    const get = async () => s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'object-key-acl' }));
    assert.deepEqual(grants(await get()), [ownerFull]);
    assert.deepEqual((await get()).Owner, { ID: OWNER });
    assert.equal((await s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'object-key-acl', ACL: 'public-read' }))).$metadata.httpStatusCode, 200);
    assert.deepEqual(grants(await get()), [ownerFull, group(ALL_USERS, 'READ')]);
    await s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'object-key-acl', GrantRead: `uri="${LOG_DELIVERY}"` }));
    assert.deepEqual(grants(await get()), [group(LOG_DELIVERY, 'READ')]);
    await s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'object-key-acl', AccessControlPolicy: { Owner: { ID: OWNER }, Grants: [ownerFull, group(LOG_DELIVERY, 'WRITE')] } as AccessControlPolicy }));
    assert.deepEqual(grants(await get()), [ownerFull, group(LOG_DELIVERY, 'WRITE')]);
  });

  it('CreateMultipartUpload with a canned ACL: the completed object has it (recorded)', async () => {
    const b = await bucket(true);
    await s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }));
    for (const [key, acl, expected] of [['key0', undefined, [ownerFull]], ['key2', 'public-read-write', [ownerFull, group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE')]]] as const) {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key, ACL: acl }));
      const p = await s3.send(new UploadPartCommand({ Bucket: b, Key: key, UploadId, PartNumber: 1, Body: 'data' }));
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } }));
      assert.deepEqual(grants(await s3.send(new GetObjectAclCommand({ Bucket: b, Key: key }))), expected, key);
    }
    assert.deepEqual(grants(await s3.send(new GetBucketAclCommand({ Bucket: b }))), [ownerFull, group(ALL_USERS, 'READ')]);
  });

  it('Object ACL of a delete marker: PUT 405, GET 404 or 405 with its version id (recorded)', async () => {
    const b = await bucket(true);
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'v', Body: 'one' }));
    const marker = (await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'v' }))).VersionId!;
    const DM = { Method: 'PUT', ResourceType: 'DeleteMarker' };
    await rejects(() => s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'v', ACL: 'public-read' })), 'MethodNotAllowed', 'The specified method is not allowed against this resource.', DM);
    await rejects(() => s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'v' })), 'NoSuchKey', 'The specified key does not exist.', { Key: 'v' });
    await rejects(() => s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'v', VersionId: marker, ACL: 'public-read' })), 'MethodNotAllowed', undefined, DM);
    await rejects(() => s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'v', VersionId: marker })), 'MethodNotAllowed', undefined, { Method: 'GET', ResourceType: 'DeleteMarker' });
  });

  it('CopyObject with an ACL into a bucket that enforces ownership: AccessControlListNotSupported, bucket-owner-full-control accepted', async () => {
    const b = await bucket(false);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'src', Body: 'x' }));
    await rejects(() => s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src`, ACL: 'public-read' })), 'AccessControlListNotSupported', 'The bucket does not allow ACLs');
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src`, ACL: 'bucket-owner-full-control' }));
    await rejects(() => s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'authenticated-read' })), 'AccessControlListNotSupported');
  });

  it('a public ACL is AccessDenied while BlockPublicAcls is on', async () => {
    const b = await bucket(false);
    await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: b }));
    const e = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'public-read' })));
    assert.equal(e.status, 403);
    assert.equal(e.name, 'AccessDenied');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'private' }));
  });
});

describe('Object Ownership and Block Public Access', () => {
  it('OwnershipControls: BucketOwnerEnforced by default, put, delete, idempotent delete, at creation (recorded)', async () => {
    const b = await bucket(false);
    const get = () => s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
    assert.deepEqual((await get()).OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    assert.equal((await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }))).$metadata.httpStatusCode, 200);
    assert.deepEqual((await get()).OwnershipControls, { Rules: [{ ObjectOwnership: 'ObjectWriter' }] });
    assert.equal((await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
    const e = await s3Error(get);
    assert.equal(e.status, 404);
    assert.equal(e.name, 'OwnershipControlsNotFoundError');
    assert.equal(e.message, 'The bucket ownership controls were not found');
    assert.equal((await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
    const c = bucketName('acl-own');
    await s3.send(new CreateBucketCommand({ Bucket: c, ObjectOwnership: 'BucketOwnerPreferred' }));
    assert.deepEqual((await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: c }))).OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] });
  });

  it('OwnershipControls: malformed rules and headers (recorded)', async () => {
    const b = await bucket(false);
    const put = (Rules: object[]) => s3.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: Rules as never } }));
    await rejects(() => put([{ ObjectOwnership: 'BucketOwnerPreferred' }, { ObjectOwnership: 'ObjectWriter' }]), 'MalformedXML');
    await rejects(() => put([{ ObjectOwnership: 'RandomValue' }]), 'MalformedXML');
    await rejects(() => put([{}]), 'MalformedXML');
    await rejects(() => s3.send(new CreateBucketCommand({ Bucket: bucketName('acl-x'), ObjectOwnership: 'RandomValue' as never })), 'InvalidArgument', 'Invalid x-amz-object-ownership header: RandomValue', { ArgumentName: 'x-amz-object-ownership' });
    const withAcl = await s3Error(() => s3.send(new CreateBucketCommand({ Bucket: bucketName('acl-y'), ACL: 'public-read' })));
    assert.equal(withAcl.name, 'InvalidBucketAclWithObjectOwnership');
  });

  it('PublicAccessBlock: all on by default, put, delete, idempotent delete (recorded)', async () => {
    const b = await bucket(false);
    const get = () => s3.send(new GetPublicAccessBlockCommand({ Bucket: b }));
    assert.deepEqual((await get()).PublicAccessBlockConfiguration, { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    const off = { BlockPublicAcls: false, BlockPublicPolicy: false, IgnorePublicAcls: false, RestrictPublicBuckets: false };
    assert.equal((await s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: off }))).$metadata.httpStatusCode, 200);
    assert.deepEqual((await get()).PublicAccessBlockConfiguration, off);
    assert.equal((await s3.send(new DeletePab({ Bucket: b }))).$metadata.httpStatusCode, 204);
    const e = await s3Error(get);
    assert.equal(e.status, 404);
    assert.equal(e.name, 'NoSuchPublicAccessBlockConfiguration');
    assert.equal(e.message, 'The public access block configuration was not found');
    assert.equal(e.raw.BucketName, b);
    assert.equal((await s3.send(new DeletePab({ Bucket: b }))).$metadata.httpStatusCode, 204);
  });
});
