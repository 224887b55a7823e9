import { S3Error } from '../../errors.js';
import { bucketOf, header, type Handler, type Headers, type RequestContext } from '../context.js';
import type { VersionRow } from '../../meta/types.js';
import { checkReadConditions, checkWriteConditions, writeConditions } from './conditions.js';
import { checksumRequest, ingest, MAX_OBJECT_SIZE } from './ingest.js';
import { commitWritten } from '../../engine/ingest.js';
import { ARCHIVE_CLASSES, isRestored, metaFromRequest, metaOf, objectHeaders, quoteEtag, type StoredMeta } from './meta.js';
import { parseGetRange, type ByteRange } from './range.js';
import { inlineRange, readManifest } from '../../engine/read.js';
import { tagsFromHeader } from './tagging.js';
import { checkVersionId, isVersioned, newVersionId, readableVersion, writeTarget } from './versions.js';
import { checksumHeader } from '../../util/checksum.js';
import { partChecksumHeaders, parsePartNumberParam } from '../multipart/upload.js';
import { readSse, sseEtag, sseHeaders, writeSse } from '../sse/sse.js';
import { primed } from '../../engine/encrypted.js';

/**
 * PutObject: stream the body into a blob (or inline), then commit the new
 * version in one transaction that also checks If-Match / If-None-Match.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
 */
export const PutObject: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const key = ctx.key!;
  const meta: StoredMeta = metaFromRequest(ctx);
  const tags = tagsFromHeader(ctx.headers['x-amz-tagging']);
  if (tags) meta.tags = tags;
  const conditions = writeConditions(ctx);
  const sse = writeSse(ctx, bucket);
  if (sse) meta.encryption = sse.meta;
  // Without a checksum from the client, AWS computes and stores a CRC64NVME.
  const checksum = checksumRequest(ctx) ?? { algorithm: 'CRC64NVME' as const };
  const body = await ingest(ctx, { maxSize: MAX_OBJECT_SIZE, checksum, encryption: sse?.kek });
  if (body.checksum) meta.checksum = { algorithm: body.checksum.algorithm, type: 'FULL_OBJECT', value: body.checksum.value };
  const { versionId, mode } = writeTarget(bucket);
  const etag = sse ? sseEtag(sse.meta, body.md5) : body.md5.toString('hex');
  await commitWritten(body, () => ctx.deps.meta.putVersion({
    bucket: bucket.name, bucketId: bucket.id, key, versionId, mode, newBlobs: body.newBlobs,
    version: { deleteMarker: false, size: body.size, etag, lastModified: Date.now(), manifest: body.manifest, meta },
    check(current) {
      return checkWriteConditions(conditions, key, current);
    },
  }));
  ctx.deps.jobs.collectSoon();
  const headers: Headers = { etag: quoteEtag(etag) };
  // A Suspended bucket writes the null version and, as AWS, does not say so.
  if (versionId !== 'null') headers['x-amz-version-id'] = versionId;
  if (sse) Object.assign(headers, sseHeaders(ctx, sse.meta, sse.customer, { context: true }));
  if (body.checksum) {
    headers[checksumHeader(body.checksum.algorithm)] = body.checksum.value;
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  return { status: 200, headers };
};

const RESPONSE_OVERRIDES: Array<[string, string]> = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
];

/** The part of a multipart object that `partNumber=N` names, as a byte range. */
function partRange(v: VersionRow, partNumber: number): ByteRange {
  const parts = metaOf(v).parts;
  if (!parts) {
    if (partNumber === 1) return { start: 0, end: v.size };
    throw new S3Error('InvalidPartNumber', undefined, { PartNumberRequested: partNumber, ActualPartCount: 1 });
  }
  if (partNumber > parts.length) throw new S3Error('InvalidPartNumber', undefined, { PartNumberRequested: partNumber, ActualPartCount: parts.length });
  let start = 0;
  for (let i = 0; i < partNumber - 1; i++) start += parts[i].size;
  return { start, end: start + parts[partNumber - 1].size };
}

function parsePartNumber(ctx: RequestContext): number | undefined {
  return ctx.query.get('partNumber') === null ? undefined : parsePartNumberParam(ctx);
}

/** Shared by GetObject and HeadObject: which version, which bytes, which headers. */
async function prepareRead(ctx: RequestContext) {
  const bucket = bucketOf(ctx);
  // SSE-S3 and SSE-KMS objects are read without naming their encryption; naming it is an error on AWS.
  const named = header(ctx, 'x-amz-server-side-encryption');
  if (named !== undefined) {
    throw new S3Error('InvalidArgument', 'x-amz-server-side-encryption header is not supported for this operation.', {
      ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: named,
    });
  }
  const versionId = checkVersionId(bucket, ctx.query.get('versionId'));
  const partNumber = parsePartNumber(ctx);
  if (partNumber !== undefined && ctx.headers.range !== undefined) {
    throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  }
  const v = await readableVersion(ctx.deps, bucket, ctx.key!, versionId, { method: ctx.method });
  const meta = metaOf(v);
  // An unrestored archived object can be HEADed (to read x-amz-restore), not read (recorded).
  if (ctx.method !== 'HEAD' && ARCHIVE_CLASSES.has(meta.storageClass ?? '') && !isRestored(meta)) {
    throw new S3Error('InvalidObjectState', undefined, { StorageClass: meta.storageClass }, { 'x-amz-storage-class': meta.storageClass! });
  }
  const sse = readSse(ctx, meta.encryption, { body: ctx.method !== 'HEAD' });
  checkReadConditions(ctx, v);
  const range = partNumber !== undefined ? partRange(v, partNumber) : parseGetRange(ctx.headers.range, v.size);
  const whole = range === undefined;
  // The stored checksum describes every byte: AWS returns it for a range only when the range covers the whole object.
  const allBytes = whole || (partNumber === undefined && range.start === 0 && range.end === v.size);
  const headers = objectHeaders(v, { versioned: isVersioned(bucket), checksumMode: ctx.headers['x-amz-checksum-mode'] === 'ENABLED' && (allBytes || (partNumber !== undefined && !meta.parts)) });
  if (!whole || partNumber === undefined) delete headers['x-amz-mp-parts-count'];
  if (partNumber !== undefined && meta.parts) headers['x-amz-mp-parts-count'] = meta.parts.length;
  if (partNumber !== undefined && meta.parts && ctx.headers['x-amz-checksum-mode'] === 'ENABLED') Object.assign(headers, partChecksumHeaders(meta, partNumber));
  if (!ctx.auth.anonymous) {
    for (const [param, name] of RESPONSE_OVERRIDES) {
      const o = ctx.query.get(param);
      if (o !== null) headers[name] = o;
    }
  }
  if (meta.encryption) Object.assign(headers, sseHeaders(ctx, meta.encryption, sse.customer));
  const r = range ?? { start: 0, end: v.size };
  headers['content-length'] = r.end - r.start;
  let status = 200;
  if (range !== undefined && v.size > 0) {
    status = 206;
    headers['content-range'] = `bytes ${r.start}-${r.end - 1}/${v.size}`;
  }
  return { v, r, headers, status, keys: sse.keys };
}

/**
 * Largest answer served from inline blobs as one Buffer (written with the
 * headers in one `res.end`, without the stream machinery); longer ones stream.
 */
const INLINE_BODY_MAX = 1024 * 1024;

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html */
export const GetObject: Handler = async (ctx) => {
  const { v, r, headers, status, keys } = await prepareRead(ctx);
  const small = metaOf(v).encryption ? undefined : await inlineRange(ctx.deps, v.manifest, r.start, r.end, INLINE_BODY_MAX);
  if (small) return { status, headers, body: small };
  const body = readManifest(ctx.deps, v.manifest, r.start, r.end, keys);
  // An encrypted object's first segment is authenticated before the 200 goes out, so damage is an error, not a cut body.
  return { status, headers, body: metaOf(v).encryption ? await primed(body) : body };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html */
export const HeadObject: Handler = async (ctx) => {
  const { headers, status } = await prepareRead(ctx);
  return { status, headers };
};

/**
 * DeleteObject: without versionId, removes the null version (unversioned) or
 * adds a delete marker (versioning on); with versionId, removes that version.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
 */
export async function deleteOne(ctx: RequestContext, key: string, versionIdParam: string | null): Promise<Headers> {
  const bucket = bucketOf(ctx);
  const versionId = checkVersionId(bucket, versionIdParam);
  const headers: Headers = {};
  if (versionId !== undefined) {
    const gone = await ctx.deps.meta.deleteVersion(bucket.name, key, versionId);
    headers['x-amz-version-id'] = versionId;
    if (gone?.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  } else if (bucket.versioning === '') {
    await ctx.deps.meta.deleteVersion(bucket.name, key, 'null');
  } else {
    const markerId = bucket.versioning === 'Enabled' ? newVersionId() : 'null';
    await ctx.deps.meta.putVersion({
      bucket: bucket.name, bucketId: bucket.id, key, versionId: markerId, mode: bucket.versioning === 'Enabled' ? 'append' : 'replace-null', newBlobs: [],
      version: { deleteMarker: true, size: 0, etag: '', lastModified: Date.now(), manifest: [], meta: { owner: ctx.principal?.accountId } },
    });
    headers['x-amz-version-id'] = markerId;
    headers['x-amz-delete-marker'] = 'true';
  }
  ctx.deps.jobs.collectSoon();
  return headers;
}

export const DeleteObject: Handler = async (ctx) => {
  return { status: 204, headers: await deleteOne(ctx, ctx.key!, ctx.query.get('versionId')) };
};
