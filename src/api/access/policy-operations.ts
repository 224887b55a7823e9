import { S3Error } from '../../errors.js';
import { bucketOf, type Handler } from '../context.js';
import { bucketAccess } from './ownership.js';
import { readBody } from '../body.js';
import { isPublicPolicy, parsePolicy } from './policy.js';
import { changeBucket } from '../bucket/change.js';
import { xmlDocument } from '../xml.js';

/**
 * PutBucketPolicy / GetBucketPolicy / DeleteBucketPolicy. The document is
 * validated (MalformedPolicy says what is wrong) and stored as given; a public
 * policy is refused while the bucket's BlockPublicPolicy is on.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html
 */
export const PutBucketPolicy: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const text = await readBody(ctx);
  const policy = parsePolicy(text, bucket.name);
  if (bucketAccess(ctx, bucket).pab.BlockPublicPolicy && isPublicPolicy(policy)) {
    throw new S3Error('AccessDenied', `User: ${ctx.principal ? `arn:aws:iam::${ctx.principal.accountId}:root` : 'anonymous'} is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::${bucket.name}" because public policies are blocked by the BlockPublicPolicy block public access setting.`);
  }
  await changeBucket(ctx, { config: { policy: text } });
  return { status: 204 };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html */
export const GetBucketPolicy: Handler = async (ctx) => {
  const text = bucketOf(ctx).config.policy;
  if (typeof text !== 'string') throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: ctx.bucket });
  return { status: 200, headers: { 'content-type': 'application/json' }, body: text };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html */
export const DeleteBucketPolicy: Handler = async (ctx) => {
  await changeBucket(ctx, { config: { policy: undefined } });
  return { status: 204 };
};

/**
 * Whether the bucket's policy makes it public, as AWS judges it (the same
 * test BlockPublicPolicy applies: policy.ts isPublicPolicy).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicyStatus.html
 */
export const GetBucketPolicyStatus: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const text = bucket.config.policy;
  if (typeof text !== 'string') throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: bucket.name });
  const body = xmlDocument('PolicyStatus', { IsPublic: String(isPublicPolicy(parsePolicy(text, bucket.name))) });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
};
