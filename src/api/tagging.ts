import { S3Error } from '../errors.js';
import { bucketOf, type Handler, type RequestContext } from '../http/context.js';
import { asArray, parseXml, xmlDocument } from '../http/xml.js';
import { metaOf } from './object-meta.js';
import { checkVersionId, isVersioned, readableVersion } from './versions.js';
import { readBody } from './body.js';

/**
 * Object tags: at most 10, keys up to 128 and values up to 256 characters,
 * keys unique and not in the reserved `aws:` namespace.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html
 */
export type Tags = Array<[string, string]>;

const MAX_TAGS = 10;

export function validateTags(tags: Tags): Tags {
  if (tags.length > MAX_TAGS) throw new S3Error('BadRequest', 'Object tags cannot be greater than 10');
  const seen = new Set<string>();
  for (const [k, v] of tags) {
    if (k.length < 1 || k.length > 128) throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid');
    if (v.length > 256) throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid');
    if (k.toLowerCase().startsWith('aws:')) throw new S3Error('InvalidTag', 'Your TagKey cannot be prefixed with aws:');
    if (seen.has(k)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    seen.add(k);
  }
  return tags;
}

/** `x-amz-tagging: k1=v1&k2=v2` (URL query encoding). */
export function tagsFromHeader(raw: string | string[] | undefined): Tags | undefined {
  if (raw === undefined) return undefined;
  const params = new URLSearchParams(Array.isArray(raw) ? raw.join('&') : raw);
  return validateTags([...params.entries()]);
}

/** A `<Tagging><TagSet><Tag>` document, as PutObjectTagging and PutBucketTagging take it. */
export function tagsFromXml(text: string): Tags {
  const { root, value } = parseXml(text);
  if (root !== 'Tagging' || typeof value !== 'object' || value.TagSet === undefined) throw new S3Error('MalformedXML');
  const tags: Tags = asArray(value.TagSet?.Tag).map((t: any) => {
    if (typeof t !== 'object' || t.Key === undefined) throw new S3Error('MalformedXML');
    return [String(t.Key), String(t.Value ?? '')];
  });
  return validateTags(tags);
}

export function tagsXml(tags: Tags): string {
  return xmlDocument('Tagging', { TagSet: { Tag: tags.map(([Key, Value]) => ({ Key, Value })) } });
}

async function taggedVersion(ctx: RequestContext) {
  const bucket = bucketOf(ctx);
  const versionId = checkVersionId(bucket, ctx.query.get('versionId'));
  const v = await readableVersion(ctx.deps, bucket, ctx.key!, versionId);
  const headers = isVersioned(bucket) ? { 'x-amz-version-id': v.versionId } : {};
  return { bucket, v, headers };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html */
export const GetObjectTagging: Handler = async (ctx) => {
  const { v, headers } = await taggedVersion(ctx);
  return { status: 200, headers: { ...headers, 'content-type': 'application/xml' }, body: tagsXml(metaOf(v).tags ?? []) };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html */
export const PutObjectTagging: Handler = async (ctx) => {
  const tags = tagsFromXml(await readBody(ctx));
  const { bucket, v, headers } = await taggedVersion(ctx);
  await ctx.deps.meta.updateVersionMeta(bucket.name, v.key, v.versionId, { tags: tags.length ? tags : undefined });
  return { status: 200, headers };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjectTagging.html */
export const DeleteObjectTagging: Handler = async (ctx) => {
  const { bucket, v, headers } = await taggedVersion(ctx);
  await ctx.deps.meta.updateVersionMeta(bucket.name, v.key, v.versionId, { tags: undefined });
  return { status: 204, headers };
};
