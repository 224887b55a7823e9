import { S3Error } from '../../errors.js';
import { header, type RequestContext } from '../context.js';
import type { BucketRow, VersionRow } from '../../meta/types.js';
import { authorizeSourceRead, checkExpectedOwner } from '../access/authorize.js';
import { checkCopySourceConditions } from '../object/conditions.js';
import { ARCHIVE_CLASSES, isRestored, metaOf, type StoredMeta } from '../object/meta.js';
import { parseCopyRange } from '../object/range.js';
import { checkRequesterPays } from '../access/request-payment.js';
import { checkVersionId } from '../object/versions.js';

/**
 * The source side of UploadPartCopy and CopyObject: the `x-amz-copy-source`
 * header, `x-amz-copy-source-range`, the source's state (version, delete
 * marker, archive class, copy-source conditions). Its encryption is
 * api/sse-copy.ts's. Everything here only reads; the copy itself is in copy.ts.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
 */

/** A parsed `x-amz-copy-source`: bucket, key and, optionally, a version id. */
export interface CopySource {
  bucket: string;
  key: string;
  versionId?: string;
}

/** The source version a copy reads, with its bucket. Its manifest is a consistent snapshot. */
export interface ResolvedSource {
  bucket: BucketRow;
  v: VersionRow;
  meta: StoredMeta;
}

function badSource(raw: string): S3Error {
  return new S3Error('InvalidArgument', 'Invalid copy source object key', { ArgumentName: 'x-amz-copy-source', ArgumentValue: raw });
}

/** Header values arrive as latin1; a client that sent raw UTF-8 bytes meant UTF-8. */
function asUtf8(raw: string): string {
  return /[^\x00-\x7f]/.test(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
}

/**
 * `x-amz-copy-source` in every form clients send: `bucket/key` or
 * `/bucket/key`, URL-encoded, optionally with `?versionId=`. The version
 * suffix is split off the raw value before percent-decoding, so a key holding
 * an encoded `?` (even one spelled like `?versionId=`) survives. Access point
 * and Outposts ARNs name resources Tessera does not have.
 */
export function parseCopySource(ctx: RequestContext): CopySource {
  const raw = header(ctx, 'x-amz-copy-source') ?? '';
  const text = asUtf8(raw);
  const m = /^(.*?)\?versionId=(.*)$/s.exec(text);
  const path = m ? m[1] : text;
  let decoded: string;
  let versionId: string | undefined;
  try {
    decoded = decodeURIComponent(path);
    versionId = m ? decodeURIComponent(m[2]) : undefined;
  } catch {
    throw badSource(raw);
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  if (/^arn:[^:]*:s3:[^:]*:[^:]*:accesspoint[/:]/.test(decoded)) {
    throw new S3Error('NoSuchAccessPoint', 'Tessera has no access points: name the source as bucket/key', { AccessPointArn: decoded.split('/object/')[0] });
  }
  if (/^arn:[^:]*:s3-outposts:/.test(decoded)) {
    throw new S3Error('InvalidArgument', 'S3 on Outposts ARNs are not supported as a copy source by Tessera: name the source as bucket/key', { ArgumentName: 'x-amz-copy-source', ArgumentValue: raw });
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1 || decoded.startsWith('arn:')) throw badSource(raw);
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

const RANGE_FORM = 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy';

/**
 * `x-amz-copy-source-range` syntax, checked before the source is read: only
 * `bytes=first-last` with first <= last; suffix, open-ended, reversed and
 * multiple ranges are all InvalidArgument (recorded AWS answers).
 */
export function copyRangeHeader(ctx: RequestContext): { first: number; last: number } | undefined {
  const raw = header(ctx, 'x-amz-copy-source-range');
  if (raw === undefined) return undefined;
  const r = parseCopyRange(raw);
  if (!r) throw new S3Error('InvalidArgument', RANGE_FORM, { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: raw });
  return r;
}

/**
 * The bytes [start, end) a range selects from a source of `size` bytes: a
 * first byte past the end is InvalidRequest, a last byte past the end is
 * InvalidArgument naming the size (recorded AWS answers).
 */
export function resolveCopyRange(ctx: RequestContext, r: { first: number; last: number } | undefined, size: number): { start: number; end: number } {
  if (!r) return { start: 0, end: size };
  if (r.first >= size) throw new S3Error('InvalidRequest', 'The specified copy range is invalid for the source object size');
  if (r.last >= size) {
    throw new S3Error('InvalidArgument', `Range specified is not valid for source object of size: ${size}`, {
      ArgumentName: 'x-amz-copy-source-range', ArgumentValue: header(ctx, 'x-amz-copy-source-range'),
    });
  }
  return { start: r.first, end: r.last + 1 };
}

/**
 * The version a copy reads: the source bucket must exist and be readable by
 * the requester (and belong to `x-amz-source-expected-bucket-owner` when
 * given); the current version by default, or the named one. A current delete
 * marker is 404 NoSuchKey, a named one 400 InvalidRequest; an archived,
 * unrestored object is 403 InvalidObjectState; then the copy-source
 * conditions decide (412 naming the header).
 */
export async function resolveSource(ctx: RequestContext, src: CopySource): Promise<ResolvedSource> {
  const bucket = await ctx.deps.meta.getBucket(src.bucket);
  if (!bucket) throw new S3Error('NoSuchBucket', undefined, { BucketName: src.bucket });
  await authorizeSourceRead(ctx, bucket, src.key, src.versionId);
  checkRequesterPays(ctx, bucket);
  checkExpectedOwner(ctx, 'x-amz-source-expected-bucket-owner', bucket.ownerId);
  const versionId = src.versionId === undefined ? undefined : checkVersionId(bucket, src.versionId);
  const v = await ctx.deps.meta.getVersion(bucket.name, src.key, versionId);
  if (!v) {
    if (versionId !== undefined) throw new S3Error('NoSuchVersion', undefined, { Key: src.key, VersionId: versionId });
    throw new S3Error('NoSuchKey', undefined, { Key: src.key });
  }
  if (v.deleteMarker) {
    if (versionId !== undefined) throw new S3Error('InvalidRequest', 'The source of a copy request may not specifically refer to a delete marker by version id.');
    throw new S3Error('NoSuchKey', undefined, { Key: src.key });
  }
  const meta = metaOf(v);
  if (ARCHIVE_CLASSES.has(meta.storageClass ?? '') && !isRestored(meta)) {
    throw new S3Error('InvalidObjectState', "Operation is not valid for the source object's storage class", { StorageClass: meta.storageClass });
  }
  checkCopySourceConditions(ctx, v);
  return { bucket, v, meta };
}

/** `x-amz-copy-source-version-id`: AWS names the source version unless it is the null version. */
export function copySourceVersionHeader(s: ResolvedSource): Record<string, string> {
  return s.v.versionId === 'null' ? {} : { 'x-amz-copy-source-version-id': s.v.versionId };
}

/** The destination bucket's owner check (`x-amz-expected-bucket-owner`). */
export function checkDestinationOwner(ctx: RequestContext, bucket: BucketRow): void {
  checkExpectedOwner(ctx, 'x-amz-expected-bucket-owner', bucket.ownerId);
}

/** `x-amz-request-charged` of a copy, which names two buckets: request-payment.ts's. */
export { requestCharged } from '../access/request-payment.js';
