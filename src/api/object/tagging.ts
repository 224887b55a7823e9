import { S3Error } from '../../errors.js';
import { bucketOf, type Handler, type RequestContext } from '../context.js';
import { asArray, parseXml, xmlDocument } from '../xml.js';
import { metaOf } from './meta.js';
import { checkVersionId, isVersioned, readableVersion } from './versions.js';
import { readBody } from '../body.js';

/**
 * Tags: at most 10 on an object (50 on a bucket); keys of 1 to 128 and values
 * of up to 256 characters drawn from Unicode letters, digits, spaces and
 * `+ - = . _ : / @`; keys unique and not in the reserved `aws:` namespace.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html
 */
export type Tags = Array<[string, string]>;

export type TagTarget = 'object' | 'bucket';

const MAX_TAGS: Record<TagTarget, number> = { object: 10, bucket: 50 };
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}+\-=._:/@]*$/u;

export function validateTags(tags: Tags, target: TagTarget = 'object'): Tags {
  if (tags.length > MAX_TAGS[target]) {
    throw new S3Error('BadRequest', target === 'object' ? 'Object tags cannot be greater than 10' : 'Bucket tag count cannot be greater than 50');
  }
  const seen = new Set<string>();
  for (const [k, v] of tags) {
    const keyLength = [...k].length;
    if (keyLength < 1 || keyLength > 128 || !TAG_CHARS.test(k)) throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid', { TagKey: k });
    if ([...v].length > 256 || !TAG_CHARS.test(v)) throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid', { TagKey: k, TagValue: v });
    if (k.toLowerCase().startsWith('aws:')) {
      throw new S3Error('InvalidTag', target === 'object' ? 'Your TagKey cannot be prefixed with aws:' : 'System tags cannot be added/updated by requester', { TagKey: k });
    }
    if (seen.has(k)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key', { TagKey: k });
    seen.add(k);
  }
  return tags;
}

/**
 * `x-amz-tagging: k1=v1&k2=v2` (URL query encoding; `k` alone is an empty
 * value). A duplicate name or a character a tag may not hold is
 * InvalidArgument about the header, as AWS answers it.
 */
export function tagsFromHeader(raw: string | string[] | undefined): Tags | undefined {
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw.join('&') : raw;
  const tags = [...new URLSearchParams(value).entries()];
  const names = new Set(tags.map(([k]) => k));
  if (names.size !== tags.length || tags.some(([k, v]) => !TAG_CHARS.test(k) || !TAG_CHARS.test(v))) {
    throw new S3Error('InvalidArgument', "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.", {
      ArgumentName: 'x-amz-tagging', ArgumentValue: value,
    });
  }
  return validateTags(tags);
}

/** A `<Tagging><TagSet><Tag>` document, as PutObjectTagging and PutBucketTagging take it; a Tag without Key or Value is MalformedXML. */
export function tagsFromXml(text: string, target: TagTarget = 'object'): Tags {
  const { root, value } = parseXml(text);
  if (root !== 'Tagging' || typeof value !== 'object' || value.TagSet === undefined) throw new S3Error('MalformedXML');
  const tags: Tags = asArray(value.TagSet?.Tag).map((t: any) => {
    if (typeof t !== 'object' || t.Key === undefined || t.Value === undefined || typeof t.Key === 'object' || typeof t.Value === 'object') {
      throw new S3Error('MalformedXML');
    }
    return [String(t.Key), String(t.Value)];
  });
  return validateTags(tags, target);
}

export function tagsXml(tags: Tags): string {
  return xmlDocument('Tagging', { TagSet: { Tag: tags.map(([Key, Value]) => ({ Key, Value })) } });
}

async function taggedVersion(ctx: RequestContext) {
  const bucket = bucketOf(ctx);
  const versionId = checkVersionId(bucket, ctx.query.get('versionId'));
  const v = await readableVersion(ctx.deps, bucket, ctx.key!, versionId, { method: ctx.method, currentMarker: 'MethodNotAllowed' });
  const headers = isVersioned(bucket) ? { 'x-amz-version-id': v.versionId } : {};
  return { bucket, v, headers };
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html */
export const GetObjectTagging: Handler = async (ctx) => {
  const { v, headers } = await taggedVersion(ctx).catch((e) => {
    // AWS names the missing key with its bucket here, and only here.
    if (e instanceof S3Error && e.code === 'NoSuchKey') e.fields.Key = `${ctx.bucket}/${ctx.key}`;
    throw e;
  });
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
