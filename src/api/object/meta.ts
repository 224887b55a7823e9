import { S3Error } from '../../errors.js';
import type { Headers, RequestContext } from '../context.js';
import type { VersionRow } from '../../meta/types.js';
import { checksumHeader, type ChecksumAlgorithm } from '../../util/checksum.js';
import type { SseMeta } from '../sse/sse.js';
import { objectAclMeta } from '../access/ownership.js';

/**
 * What Tessera stores about an object version besides its bytes (the
 * `meta` column). Field names are persisted: add, never rename.
 */
export interface StoredMeta {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** x-amz-meta-* with lower-cased names, without the prefix. */
  user?: Record<string, string>;
  storageClass?: string;
  tags?: Array<[string, string]>;
  checksum?: { algorithm: ChecksumAlgorithm; type: 'FULL_OBJECT' | 'COMPOSITE'; value: string };
  /** Multipart objects: each part's size, ETag and checksum, in order. */
  parts?: Array<{ size: number; etag: string; checksum?: string }>;
  /** Account id of the writer. */
  owner?: string;
  websiteRedirect?: string;
  /** Archive restore state: until when the restored copy is readable, or when an ongoing restore completes. */
  restore?: { ongoing: boolean; readyAt: number; expiry: number };
  /** Server-side encryption of the version (api/sse.ts); absent when stored as it arrived. */
  encryption?: SseMeta;
  [k: string]: unknown;
}

export function metaOf(v: VersionRow): StoredMeta {
  return v.meta as StoredMeta;
}

/**
 * Whether an archive restore is still running: until its `readyAt`. The
 * clock decides, not the stored `ongoing` flag, so a restore completes on
 * time even across a restart (api/restore.ts).
 */
export function restoreOngoing(meta: StoredMeta, now = Date.now()): boolean {
  const r = meta.restore;
  return r !== undefined && r.ongoing && r.readyAt > now;
}

/** An archived version is readable only while a completed restore has not expired. */
export function isRestored(meta: StoredMeta, now = Date.now()): boolean {
  const r = meta.restore;
  return r !== undefined && !restoreOngoing(meta, now) && r.expiry > now;
}

const CONTENT_HEADERS: Array<[keyof StoredMeta, string]> = [
  ['contentType', 'content-type'],
  ['contentEncoding', 'content-encoding'],
  ['contentDisposition', 'content-disposition'],
  ['contentLanguage', 'content-language'],
  ['cacheControl', 'cache-control'],
  ['expires', 'expires'],
];

/** Storage classes of general purpose buckets; OUTPOSTS, SNOW and EXPRESS_ONEZONE belong to other bucket kinds (InvalidStorageClass). */
export const STORAGE_CLASSES = new Set([
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR',
]);
export const ARCHIVE_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE']);

const MAX_USER_META = 2048;

/** Content headers, user metadata and storage class from a write request (PutObject, CreateMultipartUpload, CopyObject REPLACE). */
export function metaFromRequest(ctx: RequestContext): StoredMeta {
  const meta: StoredMeta = {};
  for (const [field, name] of CONTENT_HEADERS) {
    const v = ctx.headers[name];
    if (typeof v === 'string') (meta as Record<string, unknown>)[field] = v;
  }
  // aws-chunked is a transfer framing, not the object's encoding.
  if (meta.contentEncoding) {
    // As sent (`deflate, gzip` stays so), less the aws-chunked framing, as AWS stores it.
    const enc = meta.contentEncoding.split(',').filter((s) => s.trim() && s.trim() !== 'aws-chunked').join(',').trim();
    meta.contentEncoding = enc || undefined;
    if (!meta.contentEncoding) delete meta.contentEncoding;
  }
  const user: Record<string, string> = {};
  let userSize = 0;
  for (const [name, v] of Object.entries(ctx.headers)) {
    if (!name.startsWith('x-amz-meta-') || v === undefined) continue;
    const k = name.slice('x-amz-meta-'.length);
    const value = Array.isArray(v) ? v.join(',') : v;
    user[k] = value;
    userSize += Buffer.byteLength(k) + Buffer.byteLength(value);
  }
  if (userSize > MAX_USER_META) throw new S3Error('MetadataTooLarge', undefined, { Size: userSize, MaxSizeAllowed: MAX_USER_META });
  if (Object.keys(user).length) meta.user = user;
  const sc = ctx.headers['x-amz-storage-class'];
  if (typeof sc === 'string') {
    if (!STORAGE_CLASSES.has(sc)) throw new S3Error('InvalidStorageClass', undefined, { StorageClassRequested: sc });
    if (sc !== 'STANDARD') meta.storageClass = sc;
  }
  const redirect = ctx.headers['x-amz-website-redirect-location'];
  if (typeof redirect === 'string') meta.websiteRedirect = redirect;
  if (ctx.principal) meta.owner = ctx.principal.accountId;
  Object.assign(meta, objectAclMeta(ctx));
  return meta;
}

export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

/** Strips the quotes (and a weak prefix) clients may put around an ETag. */
export function unquoteEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

/** The headers that describe an object on GET and HEAD (and most of them on PUT). */
export function objectHeaders(v: VersionRow, opts: { versioned: boolean; checksumMode: boolean }): Headers {
  const m = metaOf(v);
  const h: Headers = {
    'last-modified': new Date(v.lastModified).toUTCString(),
    etag: quoteEtag(v.etag),
    'content-type': m.contentType ?? 'binary/octet-stream',
    'accept-ranges': 'bytes',
  };
  for (const [field, name] of CONTENT_HEADERS) if (field !== 'contentType' && m[field] !== undefined) h[name] = m[field] as string;
  for (const [k, val] of Object.entries(m.user ?? {})) h['x-amz-meta-' + k] = val;
  if (m.storageClass) h['x-amz-storage-class'] = m.storageClass;
  if (opts.versioned) h['x-amz-version-id'] = v.versionId;
  if (m.tags?.length) h['x-amz-tagging-count'] = m.tags.length;
  if (m.parts) h['x-amz-mp-parts-count'] = m.parts.length;
  if (m.websiteRedirect) h['x-amz-website-redirect-location'] = m.websiteRedirect;
  if (m.restore) {
    h['x-amz-restore'] = restoreOngoing(m)
      ? 'ongoing-request="true"'
      : `ongoing-request="false", expiry-date="${new Date(m.restore.expiry).toUTCString()}"`;
  }
  if (opts.checksumMode && m.checksum) {
    h[checksumHeader(m.checksum.algorithm)] = m.checksum.value;
    h['x-amz-checksum-type'] = m.checksum.type;
  }
  return h;
}
