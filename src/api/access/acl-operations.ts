import { S3Error } from '../../errors.js';
import { bucketOf, type Handler, type RequestContext } from '../context.js';
import { parseXml, xmlDocument } from '../xml.js';
import type { BucketRow, VersionRow } from '../../meta/types.js';
import { aclFromHeaders, aclFromXml, aclXml, defaultGrants, type Grant } from './acl.js';
import { bucketAccess, checkAclAllowed, OWNERSHIPS, PAB_FLAGS, type BucketAccess, type ObjectOwnership, type PublicAccessBlock } from './ownership.js';
import { readBody } from '../body.js';
import { metaOf } from '../object/meta.js';
import { checkVersionId, isVersioned, readableVersion } from '../object/versions.js';
import { changeBucket } from '../bucket/change.js';

/**
 * Get/Put BucketAcl and ObjectAcl, OwnershipControls and PublicAccessBlock.
 * With BucketOwnerEnforced, ACLs can be read (the owner's FULL_CONTROL) but
 * not set (AccessControlListNotSupported), after the request itself has been
 * validated as AWS validates it.
 */
const XML = { 'content-type': 'application/xml' };

/** The grants a Put*Acl request sets: headers or a body, exactly one of them. */
async function requestedGrants(ctx: RequestContext, owner: string, bucketOwner: string): Promise<Grant[]> {
  const fromHeaders = aclFromHeaders(ctx, owner, bucketOwner);
  const body = await readBody(ctx);
  if (fromHeaders && body.trim() !== '') throw new S3Error('UnexpectedContent');
  if (fromHeaders) return fromHeaders;
  if (body.trim() === '') throw new S3Error('MissingSecurityHeader', undefined, { MissingHeaderName: 'x-amz-acl' });
  return aclFromXml(ctx, body);
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketAcl.html */
export const GetBucketAcl: Handler = async (ctx) => {
  const a = bucketAccess(ctx, bucketOf(ctx));
  const grants = a.aclsEnabled ? a.grants : defaultGrants(a.owner.canonicalId);
  return { status: 200, headers: XML, body: aclXml(a.owner.canonicalId, grants) };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html */
export const PutBucketAcl: Handler = async (ctx) => {
  const a = bucketAccess(ctx, bucketOf(ctx));
  const grants = await requestedGrants(ctx, a.owner.canonicalId, a.owner.canonicalId);
  if (!a.aclsEnabled) throw new S3Error('AccessControlListNotSupported');
  checkAclAllowed(a, grants);
  await changeBucket(ctx, { config: { acl: grants } });
  return { status: 200 };
};

/** The owner of an object: the bucket owner when it enforces ownership, else the writer. */
export function objectOwner(a: BucketAccess, v: VersionRow): string {
  const writer = a.aclsEnabled ? metaOf(v).owner : undefined;
  return writer ?? a.owner.accountId;
}

/** The grants in force on an object version. */
export function objectGrants(ctx: RequestContext, a: BucketAccess, v: VersionRow): { owner: string; grants: Grant[] } {
  const ownerId = objectOwner(a, v);
  const owner = ctx.deps.accounts.account(ownerId)?.canonicalId ?? ownerId;
  const stored = a.aclsEnabled ? (metaOf(v).acl as Grant[] | undefined) : undefined;
  return { owner, grants: stored ?? defaultGrants(owner) };
}

/** The version an ACL write targets; a delete marker is 405 for PUT as for GET. */
async function aclTarget(ctx: RequestContext, bucket: BucketRow): Promise<VersionRow> {
  const versionId = checkVersionId(bucket, ctx.query.get('versionId'));
  const v = await ctx.deps.meta.getVersion(bucket.name, ctx.key!, versionId);
  if (!v) {
    if (versionId !== undefined) throw new S3Error('NoSuchVersion', undefined, { Key: ctx.key, VersionId: versionId });
    throw new S3Error('NoSuchKey', undefined, { Key: ctx.key });
  }
  if (v.deleteMarker) throw new S3Error('MethodNotAllowed', undefined, { Method: 'PUT', ResourceType: 'DeleteMarker' }, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': v.versionId, allow: 'DELETE' });
  return v;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAcl.html */
export const GetObjectAcl: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const v = await readableVersion(ctx.deps, bucket, ctx.key!, checkVersionId(bucket, ctx.query.get('versionId')));
  const { owner, grants } = objectGrants(ctx, bucketAccess(ctx, bucket), v);
  const headers = isVersioned(bucket) ? { ...XML, 'x-amz-version-id': v.versionId } : XML;
  return { status: 200, headers, body: aclXml(owner, grants) };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html */
export const PutObjectAcl: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const a = bucketAccess(ctx, bucket);
  const v = await aclTarget(ctx, bucket);
  const { owner } = objectGrants(ctx, a, v);
  const grants = await requestedGrants(ctx, owner, a.owner.canonicalId);
  if (!a.aclsEnabled) throw new S3Error('AccessControlListNotSupported');
  checkAclAllowed(a, grants);
  await ctx.deps.meta.updateVersionMeta(bucket.name, v.key, v.versionId, { acl: grants });
  return { status: 200, headers: isVersioned(bucket) ? { 'x-amz-version-id': v.versionId } : {} };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketOwnershipControls.html */
export const GetBucketOwnershipControls: Handler = async (ctx) => {
  const o = bucketOf(ctx).config.ownershipControls;
  if (o === undefined) throw new S3Error('OwnershipControlsNotFoundError', undefined, { BucketName: ctx.bucket });
  return { status: 200, headers: XML, body: xmlDocument('OwnershipControls', { Rule: { ObjectOwnership: String(o) } }) };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketOwnershipControls.html */
export const PutBucketOwnershipControls: Handler = async (ctx) => {
  const { root, value } = parseXml(await readBody(ctx));
  const rules = value?.Rule;
  if (root !== 'OwnershipControls' || typeof rules !== 'object' || Array.isArray(rules) || !OWNERSHIPS.has(rules?.ObjectOwnership)) throw new S3Error('MalformedXML');
  const ownership = rules.ObjectOwnership as ObjectOwnership;
  const a = bucketAccess(ctx, bucketOf(ctx));
  if (ownership === 'BucketOwnerEnforced' && a.grants.some((g) => !(g.grantee.type === 'CanonicalUser' && g.grantee.id === a.owner.canonicalId))) {
    throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
  await changeBucket(ctx, { config: { ownershipControls: ownership } });
  return { status: 200 };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketOwnershipControls.html */
export const DeleteBucketOwnershipControls: Handler = async (ctx) => {
  await changeBucket(ctx, { config: { ownershipControls: undefined } });
  return { status: 204 };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetPublicAccessBlock.html */
export const GetPublicAccessBlock: Handler = async (ctx) => {
  const pab = bucketOf(ctx).config.publicAccessBlock as PublicAccessBlock | undefined;
  if (!pab) throw new S3Error('NoSuchPublicAccessBlockConfiguration', undefined, { BucketName: ctx.bucket });
  const body = xmlDocument('PublicAccessBlockConfiguration', Object.fromEntries(PAB_FLAGS.map((f) => [f, String(Boolean(pab[f]))])));
  return { status: 200, headers: XML, body };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutPublicAccessBlock.html */
export const PutPublicAccessBlock: Handler = async (ctx) => {
  const { root, value } = parseXml(await readBody(ctx));
  if (root !== 'PublicAccessBlockConfiguration') throw new S3Error('MalformedXML');
  const pab = {} as PublicAccessBlock;
  for (const f of PAB_FLAGS) {
    const v = typeof value === 'object' ? value[f] : undefined;
    if (v !== undefined && v !== 'true' && v !== 'false') throw new S3Error('MalformedXML');
    pab[f] = v === 'true';
  }
  await changeBucket(ctx, { config: { publicAccessBlock: pab } });
  return { status: 200 };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeletePublicAccessBlock.html */
export const DeletePublicAccessBlock: Handler = async (ctx) => {
  await changeBucket(ctx, { config: { publicAccessBlock: undefined } });
  return { status: 204 };
};
