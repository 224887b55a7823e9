import { S3Error } from '../../errors.js';
import { bucketOf, type Handler, type RequestContext } from '../context.js';
import { parseXml, xmlDocument } from '../xml.js';
import { readBody } from '../body.js';
import { newBucketAccessConfig } from '../access/ownership.js';
import { isVersioned } from '../object/versions.js';

/**
 * Bucket naming rules for general purpose buckets.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
export function validBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) return false;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return false;
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.startsWith('amzn-s3-demo-')) return false;
  if (name.endsWith('-s3alias') || name.endsWith('--ol-s3') || name.endsWith('.mrap') || name.endsWith('--x-s3') || name.endsWith('--table-s3')) return false;
  return true;
}

function owner(ctx: RequestContext, accountId: string) {
  const a = ctx.deps.accounts.account(accountId);
  return { ID: a?.canonicalId ?? accountId, DisplayName: a?.displayName ?? accountId };
}

/** The bucket's ARN, as AWS reports it in `x-amz-bucket-arn` and `<BucketArn>`. */
export function bucketArn(name: string): string {
  return `arn:aws:s3:::${name}`;
}

/** Region names as AWS spells them (`us-east-1`, `ap-southeast-2`, `us-gov-west-1`), plus the legacy `EU`. */
const REGION = /^([a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}|EU)$/;

/**
 * The region a CreateBucket asks for, judged as AWS's regional endpoints judge
 * it: Tessera's endpoint is `config.region`. On us-east-1 any real region may
 * be named (but not us-east-1 itself); elsewhere only the endpoint's own region.
 */
function requestedRegion(ctx: RequestContext, text: string): string {
  const endpoint = ctx.deps.config.region;
  let lc: string | undefined;
  if (text.trim() !== '') {
    const { root, value } = parseXml(text);
    if (root !== 'CreateBucketConfiguration') throw new S3Error('MalformedXML');
    const v = typeof value === 'object' ? value.LocationConstraint : undefined;
    if (typeof v === 'object') throw new S3Error('MalformedXML');
    if (v !== undefined && v !== '') lc = String(v);
  }
  const illegal = (what: string) => new S3Error('IllegalLocationConstraintException', `The ${what} location constraint is incompatible for the region specific endpoint this request was sent to.`);
  if (endpoint !== 'us-east-1') {
    if (lc === undefined) throw illegal('unspecified');
    if (lc !== endpoint) throw illegal(lc);
    return lc;
  }
  if (lc === undefined) return endpoint;
  if (lc === 'us-east-1' || !REGION.test(lc)) {
    throw new S3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid', { LocationConstraint: lc });
  }
  return lc;
}

/**
 * Creates a bucket owned by the caller. Re-creating one's own bucket is
 * BucketAlreadyOwnedByYou, except in us-east-1 where AWS answers 200.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
 */
export const CreateBucket: Handler = async (ctx) => {
  const name = ctx.bucket!;
  if (!validBucketName(name)) throw new S3Error('InvalidBucketName', undefined, { BucketName: name });
  const region = requestedRegion(ctx, await readBody(ctx));
  const principal = ctx.principal!;
  const r = await ctx.deps.meta.createBucket({ name, ownerId: principal.accountId, createdAt: Date.now(), region, versioning: '', config: newBucketAccessConfig(ctx) });
  if (!r.created) {
    if (r.existing.ownerId !== principal.accountId) throw new S3Error('BucketAlreadyExists', undefined, { BucketName: name });
    if (r.existing.region !== 'us-east-1' || region !== 'us-east-1') throw new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: name });
  }
  const host = String(ctx.headers.host ?? 'localhost');
  const location = region === 'us-east-1' ? `/${name}` : `${ctx.secure ? 'https' : 'http'}://${name}.${host}/`;
  return { status: 200, headers: { location, 'x-amz-bucket-arn': bucketArn(name) } };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html */
export const HeadBucket: Handler = async (ctx) => {
  const b = bucketOf(ctx);
  return {
    status: 200,
    headers: { 'content-type': 'application/xml', 'x-amz-bucket-region': b.region, 'x-amz-access-point-alias': 'false', 'x-amz-bucket-arn': bucketArn(b.name) },
  };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html */
export const ListBuckets: Handler = async (ctx) => {
  const principal = ctx.principal!;
  let buckets = await ctx.deps.meta.listBuckets(principal.accountId);
  const prefix = ctx.query.get('prefix');
  if (prefix) buckets = buckets.filter((b) => b.name.startsWith(prefix));
  const region = ctx.query.get('bucket-region');
  if (region) buckets = buckets.filter((b) => b.region === region);
  const maxRaw = ctx.query.get('max-buckets');
  const token = ctx.query.get('continuation-token');
  if (token) buckets = buckets.filter((b) => b.name > token);
  let next: string | undefined;
  if (maxRaw !== null) {
    const max = Number(maxRaw);
    if (!Number.isInteger(max) || max < 1 || max > 10000) throw new S3Error('InvalidArgument', 'Argument max-buckets must be an integer between 1 and 10000', { ArgumentName: 'max-buckets', ArgumentValue: maxRaw });
    if (buckets.length > max) {
      buckets = buckets.slice(0, max);
      next = buckets[buckets.length - 1].name;
    }
  }
  const body = xmlDocument('ListAllMyBucketsResult', {
    Owner: owner(ctx, principal.accountId),
    Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: new Date(b.createdAt).toISOString(), BucketRegion: b.region, BucketArn: bucketArn(b.name) })) },
    ContinuationToken: next,
    Prefix: prefix ?? undefined,
  });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html */
export const GetBucketLocation: Handler = async (ctx) => {
  const b = bucketOf(ctx);
  const region = b.region === 'us-east-1' ? '' : b.region;
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region}</LocationConstraint>`;
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html */
export const DeleteBucket: Handler = async (ctx) => {
  const r = await ctx.deps.meta.deleteBucket(ctx.bucket!);
  if (r === 'missing') throw new S3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket });
  if (r === 'not-empty') {
    // A versioned bucket may hold only versions and delete markers a listing does not show (recorded message).
    const versioned = ctx.bucketRow !== undefined && isVersioned(ctx.bucketRow);
    const message = versioned ? 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.' : undefined;
    throw new S3Error('BucketNotEmpty', message, { BucketName: ctx.bucket });
  }
  return { status: 204 };
};
