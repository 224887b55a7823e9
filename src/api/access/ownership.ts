import { S3Error } from '../../errors.js';
import type { RequestContext } from '../context.js';
import type { BucketRow } from '../../meta/types.js';
import type { Account } from '../../engine/accounts/accounts.js';
import { aclFromHeaders, defaultGrants, isBucketOwnerFullControl, isPublicAcl, type Grant } from './acl.js';
import { isPublicPolicy, parsePolicy, type Policy } from './policy.js';

/**
 * A bucket's access settings, as its config stores them:
 *
 *   ownershipControls  ObjectOwnership: BucketOwnerEnforced (ACLs disabled,
 *                      the bucket owner owns every object), BucketOwnerPreferred
 *                      or ObjectWriter; absent means ObjectWriter
 *   publicAccessBlock  the four Block Public Access flags; absent means all off
 *   acl                the bucket's grants; absent means the owner's FULL_CONTROL
 *   policy             the bucket policy document, as given
 *
 * New buckets get what AWS gives them since April 2023: BucketOwnerEnforced
 * and every Block Public Access flag on; with `bucketDefaults: legacy`, what
 * it gave them before: neither setting (ObjectWriter, nothing blocked). The
 * choice is stored in each bucket's config when it is created, so changing
 * the setting leaves existing buckets as they are.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
 */
export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
export const OWNERSHIPS = new Set<ObjectOwnership>(['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter']);

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}
export const PAB_FLAGS: Array<keyof PublicAccessBlock> = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'];
const ALL_BLOCKED: PublicAccessBlock = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

export interface BucketAccess {
  owner: Account;
  ownership: ObjectOwnership;
  aclsEnabled: boolean;
  pab: PublicAccessBlock;
  grants: Grant[];
  policy?: Policy;
  policyPublic: boolean;
}

function ownerOf(ctx: RequestContext, bucket: BucketRow): Account {
  return ctx.deps.accounts.account(bucket.ownerId) ?? { accountId: bucket.ownerId, canonicalId: bucket.ownerId, displayName: bucket.ownerId };
}

const policyCache = new Map<string, Policy>();

/** The parsed policy of a bucket (cached by bucket and text: the text was validated when it was put). */
export function bucketPolicy(bucket: BucketRow): Policy | undefined {
  const text = bucket.config.policy;
  if (typeof text !== 'string') return undefined;
  const cacheKey = `${bucket.name}\n${text}`;
  let p = policyCache.get(cacheKey);
  if (!p) {
    p = parsePolicy(text, bucket.name);
    if (policyCache.size > 1000) policyCache.clear();
    policyCache.set(cacheKey, p);
  }
  return p;
}

export function bucketAccess(ctx: RequestContext, bucket: BucketRow): BucketAccess {
  const c = bucket.config;
  const ownership = (c.ownershipControls as ObjectOwnership | undefined) ?? 'ObjectWriter';
  const pab = { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false, ...(c.publicAccessBlock as Partial<PublicAccessBlock> | undefined) };
  const owner = ownerOf(ctx, bucket);
  const policy = bucketPolicy(bucket);
  return {
    owner, ownership, aclsEnabled: ownership !== 'BucketOwnerEnforced', pab,
    grants: (c.acl as Grant[] | undefined) ?? defaultGrants(owner.canonicalId),
    policy, policyPublic: policy ? isPublicPolicy(policy) : false,
  };
}

/** A public ACL on a bucket whose Block Public Access blocks them is refused. */
export function checkAclAllowed(access: BucketAccess, grants: Grant[]): void {
  if (access.pab.BlockPublicAcls && isPublicAcl(grants)) throw new S3Error('AccessDenied');
}

/**
 * The access settings of a bucket being created (CreateBucket):
 * `x-amz-object-ownership` (default BucketOwnerEnforced), an ACL from
 * `x-amz-acl` or grant headers, and Block Public Access all on. With
 * `bucketDefaults: legacy`, a bucket created without the header gets no
 * ownership controls (ObjectWriter) and no public access block, as AWS
 * buckets created before April 2023.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
 */
export function newBucketAccessConfig(ctx: RequestContext): Record<string, unknown> {
  const raw = ctx.headers['x-amz-object-ownership'];
  if (raw !== undefined && !OWNERSHIPS.has(raw as ObjectOwnership)) {
    throw new S3Error('InvalidArgument', `Invalid x-amz-object-ownership header: ${raw}`, { ArgumentName: 'x-amz-object-ownership' });
  }
  const legacy = ctx.deps.config.bucketDefaults === 'legacy';
  const ownership = (raw as ObjectOwnership | undefined) ?? (legacy ? 'ObjectWriter' : 'BucketOwnerEnforced');
  const me = ctx.principal!.canonicalId;
  const grants = aclFromHeaders(ctx, me, me);
  const config: Record<string, unknown> = legacy
    ? (raw === undefined ? {} : { ownershipControls: ownership })
    : { ownershipControls: ownership, publicAccessBlock: { ...ALL_BLOCKED } };
  if (grants && ownership === 'BucketOwnerEnforced' && !(ctx.headers['x-amz-acl'] === 'private' || isBucketOwnerFullControl(grants, me))) {
    throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
  if (grants && ownership !== 'BucketOwnerEnforced') config.acl = grants;
  return config;
}

/**
 * What a new object (PutObject, CreateMultipartUpload, CopyObject) stores
 * about its access: its grants from the request's ACL headers, and its owner
 * when the bucket owner takes it over (BucketOwnerPreferred with
 * bucket-owner-full-control). Enforced buckets accept no ACL but
 * bucket-owner-full-control (AccessControlListNotSupported).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
 */
export function objectAclMeta(ctx: RequestContext): { acl?: Grant[]; owner?: string } {
  const bucket = ctx.bucketRow;
  if (!bucket) return {};
  const hasAcl = ctx.headers['x-amz-acl'] !== undefined || Object.keys(ctx.headers).some((h) => h.startsWith('x-amz-grant-'));
  if (!hasAcl) return {};
  const access = bucketAccess(ctx, bucket);
  const writer = ctx.principal?.canonicalId ?? access.owner.canonicalId;
  const grants = aclFromHeaders(ctx, writer, access.owner.canonicalId);
  if (!grants) return {};
  const ownerFull = isBucketOwnerFullControl(grants, access.owner.canonicalId);
  if (!access.aclsEnabled) {
    // CopyObject validates its copy first (an in-place copy is InvalidRequest before this, recorded): see checkCopyAcl.
    if (!ownerFull && ctx.op !== 'CopyObject') throw new S3Error('AccessControlListNotSupported');
    return {};
  }
  checkAclAllowed(access, grants);
  if (access.ownership === 'BucketOwnerPreferred' && ownerFull) {
    return { acl: grants, owner: access.owner.accountId };
  }
  return { acl: grants };
}

/**
 * CopyObject's ACL check, for the copy code to run once the copy itself is
 * known to be valid: an ACL other than bucket-owner-full-control on a bucket
 * that enforces ownership is AccessControlListNotSupported.
 */
export function checkCopyAcl(ctx: RequestContext): void {
  const bucket = ctx.bucketRow;
  if (!bucket || bucketAccess(ctx, bucket).aclsEnabled) return;
  const owner = bucketAccess(ctx, bucket).owner.canonicalId;
  const grants = aclFromHeaders(ctx, ctx.principal?.canonicalId ?? owner, owner);
  if (grants && !isBucketOwnerFullControl(grants, owner)) throw new S3Error('AccessControlListNotSupported');
}
