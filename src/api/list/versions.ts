import { S3Error } from '../../errors.js';
import { bucketOf, type Handler, type RequestContext } from '../context.js';
import { element, S3_NS, type XmlObject } from '../xml.js';
import {
  encoderFor, listDate, MAX_KEYS, objectFields, ownerOf, param, parseEncodingType, parseMaxKeys, resumeAfter, walk, type Resume,
} from './listing.js';
import { isWellFormedVersionId } from '../object/versions.js';

/**
 * Where a ListObjectVersions page starts. `key-marker` alone skips every
 * version of that key; with `version-id-marker` the page continues inside
 * the key after that version. A version-id marker whose version was deleted
 * meanwhile (a client deleting each page as it lists) resumes at the key's
 * newest remaining version, so no version is ever skipped (recorded).
 */
async function resumeVersions(ctx: RequestContext, prefix: string, delimiter: string | undefined): Promise<Resume> {
  const keyMarker = param(ctx, 'key-marker');
  const versionIdMarker = param(ctx, 'version-id-marker');
  if (versionIdMarker !== undefined && keyMarker === undefined) {
    throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker });
  }
  if (versionIdMarker !== undefined && !isWellFormedVersionId(versionIdMarker)) {
    throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker });
  }
  const resume = resumeAfter(keyMarker, prefix, delimiter);
  if (versionIdMarker === undefined || resume.afterKey === undefined) return resume;
  const v = await ctx.deps.meta.getVersion(bucketOf(ctx).name, resume.afterKey, versionIdMarker);
  return v ? { afterKey: v.key, afterSeq: v.seq } : { fromKey: resume.afterKey };
}

/**
 * ListObjectVersions: every version and delete marker, in key order and
 * newest first within a key, with IsLatest; CommonPrefixes at the delimiter;
 * `NextKeyMarker` / `NextVersionIdMarker` name the last entry of a truncated
 * page (a CommonPrefix has no version id).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
 */
export const ListObjectVersions: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const encodingType = parseEncodingType(ctx);
  const encode = encoderFor(encodingType);
  const maxKeys = parseMaxKeys(ctx, 'max-keys cannot be negative');
  const prefix = param(ctx, 'prefix') ?? '';
  const delimiter = param(ctx, 'delimiter');
  const resume = await resumeVersions(ctx, prefix, delimiter);
  const { entries, truncated } = await walk(ctx, bucket.name, { prefix, delimiter, resume, maxKeys: Math.min(maxKeys, MAX_KEYS), latestOnly: false });
  const last = truncated ? entries[entries.length - 1] : undefined;
  const head: XmlObject = {
    Name: bucket.name,
    Prefix: encode(prefix),
    KeyMarker: encode(ctx.query.get('key-marker') ?? ''),
    VersionIdMarker: ctx.query.get('version-id-marker') ?? '',
    NextKeyMarker: last ? encode(last.prefix ?? last.v!.key) : undefined,
    NextVersionIdMarker: last?.v?.versionId,
    MaxKeys: maxKeys,
    Delimiter: delimiter === undefined ? undefined : encode(delimiter),
    IsTruncated: truncated,
    EncodingType: encodingType,
  };
  const out = ['<?xml version="1.0" encoding="UTF-8"?>\n', `<ListVersionsResult xmlns="${S3_NS}">`];
  for (const [name, value] of Object.entries(head)) element(name, value, out);
  for (const { v } of entries) {
    if (!v) continue;
    const common = { Key: encode(v.key), VersionId: v.versionId, IsLatest: v.isLatest, LastModified: listDate(v.lastModified) };
    if (v.deleteMarker) element('DeleteMarker', { Owner: ownerOf(ctx, v), ...common }, out);
    else element('Version', { ...common, ...objectFields(v), Owner: ownerOf(ctx, v) }, out);
  }
  for (const e of entries) if (e.prefix !== undefined) element('CommonPrefixes', { Prefix: encode(e.prefix) }, out);
  out.push('</ListVersionsResult>');
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: out.join('') };
};
