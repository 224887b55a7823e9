import { S3Error } from '../../errors.js';
import { bucketOf, type Handler } from '../context.js';
import { readBody } from '../body.js';
import { tagsFromXml, tagsXml, type Tags } from '../object/tagging.js';
import { changeBucket } from './change.js';

/** Bucket tagging: the tag set lives in the bucket's configuration (object tags: object/tagging.ts, whose rules it shares). */

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketTagging.html */
export const GetBucketTagging: Handler = async (ctx) => {
  const tags = bucketOf(ctx).config.tagging as Tags | undefined;
  if (!tags) throw new S3Error('NoSuchTagSet', undefined, { BucketName: ctx.bucket });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: tagsXml(tags) };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketTagging.html */
export const PutBucketTagging: Handler = async (ctx) => {
  const tags = tagsFromXml(await readBody(ctx), 'bucket');
  await changeBucket(ctx, { config: { tagging: tags } });
  return { status: 204 };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketTagging.html */
export const DeleteBucketTagging: Handler = async (ctx) => {
  await changeBucket(ctx, { config: { tagging: undefined } });
  return { status: 204 };
};
