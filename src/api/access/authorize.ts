import { S3Error } from '../../errors.js';
import { header, type RequestContext } from '../context.js';
import type { BucketRow, VersionRow } from '../../meta/types.js';
import { aclPermits, type Permission } from './acl.js';
import { objectGrants, objectOwner } from './acl-operations.js';
import { bucketAccess, type BucketAccess } from './ownership.js';
import { uploadMetaOf } from '../multipart/upload.js';
import { actionFor, bucketArn, objectArn, type ResourceKind } from './policy-actions.js';
import { evaluatePolicy, type ConditionValues, type PolicyResult } from './policy-eval.js';

/**
 * Authorization: may this request's principal (an account, or anonymous)
 * run its operation on its target? Decided as S3 decides, from the action
 * the operation needs (policy-actions.ts):
 *
 * 1. an explicit Deny in the bucket policy refuses;
 * 2. the bucket owner's account may do anything to its bucket, and to the
 *    objects it owns (with BucketOwnerEnforced, to every object);
 * 3. an Allow in the bucket policy grants (for objects, only for objects the
 *    bucket owner owns; with RestrictPublicBuckets and a public policy, only
 *    to the owner's account);
 * 4. an ACL grants: the bucket's for listing and writing, the object's for
 *    reading it and its ACL (never with BucketOwnerEnforced; grants to
 *    everyone not with IgnorePublicAcls);
 * 5. the initiator of a multipart upload may list its parts and abort it.
 *
 * Anything else is 403 AccessDenied. Anonymous requests get only what a
 * policy or an ACL grants to everyone. The policy operations are special:
 * the bucket owner may always run them (no lockout), other accounts never
 * (405 when the policy would allow them, as AWS).
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-s3-evaluates-access-control.html
 */
export async function authorize(ctx: RequestContext): Promise<void> {
  if (ctx.op === 'PreflightRequest') return;
  const bucket = ctx.bucketRow;
  if (!bucket) {
    // ListBuckets, CreateBucket: any signed-in account.
    if (!ctx.principal) throw new S3Error('AccessDenied');
    return;
  }
  checkExpectedOwner(ctx, 'x-amz-expected-bucket-owner', bucket.ownerId);
  // A form POST is signed by its policy document, which PostObject verifies and authorizes itself.
  if (ctx.op === 'PostObject') return;
  const versionId = ctx.query.get('versionId');
  const need = actionFor(ctx.op, versionId);
  if (!need) {
    if (ctx.principal?.accountId !== bucket.ownerId) throw new S3Error('AccessDenied');
    return;
  }
  if (/^(Get|Put|Delete)BucketPolicy$/.test(ctx.op)) return authorizePolicyOperation(ctx, bucket, need.action);
  // DeleteObjects is decided key by key (authorizeKey), each refusal an AccessDenied entry of its result.
  if (ctx.op === 'DeleteObjects') return;
  const check: Check = { bucket, action: need.action, kind: need.kind, key: ctx.key, versionId: versionId ?? undefined, uploadId: ctx.query.get('uploadId') ?? undefined };
  if (!(await allowed(ctx, check))) throw new S3Error('AccessDenied');
  if (hasAclHeaders(ctx) && (ctx.op === 'PutObject' || ctx.op === 'CopyObject' || ctx.op === 'CreateMultipartUpload')) {
    if (!(await allowed(ctx, { ...check, action: 's3:PutObjectAcl', newObject: true }))) throw new S3Error('AccessDenied');
  }
}

/**
 * The source side of UploadPartCopy and CopyObject: the principal needs
 * `s3:GetObject` on the source object (`s3:GetObjectVersion` when a
 * versionId names the version), and the source bucket must belong to
 * `x-amz-source-expected-bucket-owner` when the request names one. Throws
 * 403 AccessDenied; call it after resolving the source bucket (NoSuchBucket
 * comes first) and before reading the source version.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html
 */
export async function authorizeSourceRead(ctx: RequestContext, sourceBucket: BucketRow, key: string, versionId: string | undefined): Promise<void> {
  checkExpectedOwner(ctx, 'x-amz-source-expected-bucket-owner', sourceBucket.ownerId);
  const action = versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject';
  if (!(await allowed(ctx, { bucket: sourceBucket, action, kind: 'object', key, versionId }))) throw new S3Error('AccessDenied');
}

/**
 * One key of a multi-key operation (DeleteObjects): throws AccessDenied when
 * the principal may not run `operation` on that key of the request's bucket.
 */
export async function authorizeKey(ctx: RequestContext, operation: string, key: string, versionId: string | undefined): Promise<void> {
  const need = actionFor(operation, versionId ?? null);
  if (!need || !ctx.bucketRow) throw new S3Error('AccessDenied');
  if (!(await allowed(ctx, { bucket: ctx.bucketRow, action: need.action, kind: need.kind, key, versionId }))) throw new S3Error('AccessDenied');
}

/**
 * `x-amz-expected-bucket-owner` (and the source variant): a 12-digit account
 * id, else 400 InvalidBucketOwnerAWSAccountID; another account's id is 403.
 */
export function checkExpectedOwner(ctx: RequestContext, name: string, ownerId: string): void {
  const v = header(ctx, name);
  if (v === undefined) return;
  if (!/^\d{12}$/.test(v)) throw new S3Error('InvalidBucketOwnerAWSAccountID', `The value of the expected bucket owner parameter must be an AWS Account ID... [${v}]`);
  if (v !== ownerId) throw new S3Error('AccessDenied');
}

function hasAclHeaders(ctx: RequestContext): boolean {
  return ctx.headers['x-amz-acl'] !== undefined || Object.keys(ctx.headers).some((h) => h.startsWith('x-amz-grant-'));
}

function authorizePolicyOperation(ctx: RequestContext, bucket: BucketRow, action: string): void {
  if (ctx.principal?.accountId === bucket.ownerId) return;
  const a = bucketAccess(ctx, bucket);
  const r = evaluatePolicy(a.policy, { principal: ctx.principal, action, resource: bucketArn(bucket.name), values: conditionValues(ctx) });
  if (r === 'Allow' && ctx.principal) throw new S3Error('MethodNotAllowed', undefined, { Method: ctx.method, ResourceType: 'BUCKET' });
  throw new S3Error('AccessDenied');
}

interface Check {
  bucket: BucketRow;
  action: string;
  kind: ResourceKind;
  key?: string;
  versionId?: string;
  uploadId?: string;
  /** The object is being created by this request (its ACL check needs no existing object). */
  newObject?: boolean;
}

/** Object actions decided in the bucket's context (ACL WRITE on the bucket), not the object's. */
const BUCKET_CONTEXT = new Set(['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']);
const INITIATOR_ACTIONS = new Set(['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts']);
const BUCKET_ACL: Record<string, Permission> = {
  's3:ListBucket': 'READ', 's3:ListBucketVersions': 'READ', 's3:ListBucketMultipartUploads': 'READ',
  's3:GetBucketAcl': 'READ_ACP', 's3:PutBucketAcl': 'WRITE_ACP',
  's3:PutObject': 'WRITE', 's3:DeleteObject': 'WRITE', 's3:DeleteObjectVersion': 'WRITE', 's3:PutObjectAcl': 'WRITE',
};
const OBJECT_ACL: Record<string, Permission> = {
  's3:GetObject': 'READ', 's3:GetObjectVersion': 'READ', 's3:GetObjectTorrent': 'READ', 's3:GetObjectVersionTorrent': 'READ',
  's3:GetObjectAcl': 'READ_ACP', 's3:GetObjectVersionAcl': 'READ_ACP', 's3:PutObjectAcl': 'WRITE_ACP', 's3:PutObjectVersionAcl': 'WRITE_ACP',
};

async function allowed(ctx: RequestContext, c: Check): Promise<boolean> {
  const a = bucketAccess(ctx, c.bucket);
  const p = ctx.principal;
  const isOwner = p?.accountId === c.bucket.ownerId;
  const policy = (action: string, resource: string): PolicyResult => {
    if (!a.policy) return undefined;
    const restrict = a.pab.RestrictPublicBuckets && a.policyPublic ? c.bucket.ownerId : undefined;
    return evaluatePolicy(a.policy, { principal: p, action, resource, values: conditionValues(ctx) }, restrict);
  };
  const bucketAcl = (perm: Permission | undefined) => a.aclsEnabled && perm !== undefined && aclPermits(a.grants, p, perm, a.pab.IgnorePublicAcls);
  const resource = c.kind === 'object' ? objectArn(c.bucket.name, c.key ?? '') : bucketArn(c.bucket.name);
  const verdict = policy(c.action, resource);
  if (verdict === 'Deny') return false;
  if (c.kind !== 'object') return isOwner || verdict === 'Allow' || bucketAcl(BUCKET_ACL[c.action]);
  if (c.newObject) return isOwner || verdict === 'Allow' || bucketAcl('WRITE');
  if (BUCKET_CONTEXT.has(c.action)) {
    if (isOwner || verdict === 'Allow' || bucketAcl(BUCKET_ACL[c.action])) return true;
    return INITIATOR_ACTIONS.has(c.action) && p !== undefined && (await initiatorOf(ctx, c)) === p.accountId;
  }
  // The object's own context: who owns it, what its ACL grants.
  if (isOwner && !a.aclsEnabled) return true;
  const v = await ctx.deps.meta.getVersion(c.bucket.name, c.key ?? '', c.versionId);
  if (!v || v.deleteMarker) {
    // The operation will answer 404; AWS tells that only to who may list the bucket.
    return isOwner || (verdict === 'Allow' && (policy('s3:ListBucket', bucketArn(c.bucket.name)) === 'Allow' || bucketAcl('READ')));
  }
  return objectAllows(ctx, a, v, c.action, verdict);
}

function objectAllows(ctx: RequestContext, a: BucketAccess, v: VersionRow, action: string, verdict: PolicyResult): boolean {
  const ownerId = objectOwner(a, v);
  if (ctx.principal?.accountId === ownerId) return true;
  if (verdict === 'Allow' && ownerId === a.owner.accountId) return true;
  const perm = OBJECT_ACL[action];
  return a.aclsEnabled && perm !== undefined && aclPermits(objectGrants(ctx, a, v).grants, ctx.principal, perm, a.pab.IgnorePublicAcls);
}

async function initiatorOf(ctx: RequestContext, c: Check): Promise<string | undefined> {
  if (!c.uploadId) return undefined;
  const u = await ctx.deps.meta.getUpload(c.uploadId);
  return u && u.bucket === c.bucket.name && u.key === c.key ? uploadMetaOf(u).initiator : undefined;
}

/**
 * The condition keys of a request, as policies test them.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
 */
export function conditionValues(ctx: RequestContext): ConditionValues {
  const h = (n: string) => header(ctx, n);
  const q = (n: string) => ctx.query.get(n) ?? undefined;
  const listing = /^(ListObjects|ListObjectsV2|ListObjectVersions|ListMultipartUploads)$/.test(ctx.op);
  const now = Date.now();
  return {
    'aws:sourceip': ctx.remoteAddress.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1'),
    'aws:securetransport': String(ctx.secure),
    'aws:principalaccount': ctx.principal?.accountId,
    'aws:principaltype': ctx.principal ? 'Account' : 'Anonymous',
    'aws:referer': h('referer'),
    'aws:useragent': h('user-agent'),
    'aws:currenttime': new Date(now).toISOString(),
    'aws:epochtime': String(Math.floor(now / 1000)),
    's3:prefix': listing ? q('prefix') ?? '' : undefined,
    's3:delimiter': listing ? q('delimiter') : undefined,
    's3:max-keys': listing ? q('max-keys') ?? q('max-uploads') : undefined,
    's3:x-amz-server-side-encryption': h('x-amz-server-side-encryption'),
    's3:x-amz-server-side-encryption-aws-kms-key-id': h('x-amz-server-side-encryption-aws-kms-key-id'),
    's3:x-amz-acl': h('x-amz-acl'),
    's3:x-amz-copy-source': h('x-amz-copy-source'),
    's3:x-amz-metadata-directive': h('x-amz-metadata-directive'),
    's3:x-amz-storage-class': h('x-amz-storage-class'),
    's3:versionid': q('versionId'),
    's3:signatureversion': ctx.auth.anonymous ? undefined : 'AWS4-HMAC-SHA256',
    's3:authtype': ctx.auth.method === 'presigned' ? 'REST-QUERY-STRING' : ctx.auth.method === 'header' ? 'REST-HEADER' : undefined,
    's3:x-amz-content-sha256': h('x-amz-content-sha256'),
    's3:x-amz-grant-read': h('x-amz-grant-read'),
    's3:x-amz-grant-write': h('x-amz-grant-write'),
    's3:x-amz-grant-read-acp': h('x-amz-grant-read-acp'),
    's3:x-amz-grant-write-acp': h('x-amz-grant-write-acp'),
    's3:x-amz-grant-full-control': h('x-amz-grant-full-control'),
  };
}
