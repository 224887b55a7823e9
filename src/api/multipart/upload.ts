import { randomBytes } from 'node:crypto';
import { S3Error } from '../../errors.js';
import { bucketOf, type Handler, type Headers, type RequestContext } from '../context.js';
import { xmlDocument } from '../xml.js';
import type { NewBlob, PartRow, UploadRow } from '../../meta/types.js';
import { checksumHeader, type ChecksumAlgorithm } from '../../util/checksum.js';
import { checksumAlgorithmOf, checksumRequest, ingest, type ChecksumRequest } from '../object/ingest.js';
import { commitWritten, type Written } from '../../engine/ingest.js';
import { metaFromRequest, quoteEtag, type StoredMeta } from '../object/meta.js';
import { tagsFromHeader } from '../object/tagging.js';
import { partSse, sseEtag, sseHeaders, writeSse } from '../sse/sse.js';

/** Largest part, and largest copied range (AWS's documented limits). */
export const MAX_PART_SIZE = 5 * 1024 ** 3;
export const MAX_PART_NUMBER = 10000;

/** What an upload remembers for the object it will become (the `meta` of its row). */
export interface UploadMeta {
  /** Content headers, user metadata, storage class, tags, owner of the object to be. */
  object: StoredMeta;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT';
  /** Account id of the initiator. */
  initiator?: string;
  /**
   * Store sequence of the key's current version when the upload began (0: none).
   * A conditional Complete whose key changed since then is a conflict (409).
   */
  keySeq?: number;
  [k: string]: unknown;
}

/**
 * A part's own metadata (the `meta` of its row). Uploaded and copied parts
 * are alike: a manifest, the MD5 of their bytes as ETag, and this.
 */
export interface PartMeta {
  /**
   * Base64 checksum of the part's bytes in {@link partAlgorithm}: the upload's
   * algorithm, or CRC64NVME when the upload named none (Complete then gives
   * the object AWS's default full-object CRC64NVME without reading data).
   */
  checksum?: string;
  [k: string]: unknown;
}

/** The algorithm every part's `meta.checksum` is in: the upload's, else CRC64NVME (AWS's default). */
export function partAlgorithm(m: UploadMeta): ChecksumAlgorithm {
  return m.checksumAlgorithm ?? 'CRC64NVME';
}

/** The object checksum type Complete produces: the upload's, else FULL_OBJECT. */
export function uploadChecksumType(m: UploadMeta): 'COMPOSITE' | 'FULL_OBJECT' {
  return m.checksumType ?? 'FULL_OBJECT';
}

export function uploadMetaOf(u: UploadRow): UploadMeta {
  return u.meta as UploadMeta;
}

/** A new upload id: 64 URL-safe characters from 48 random bytes. */
function newUploadId(): string {
  return randomBytes(48).toString('base64url');
}

/** `partNumber` query parameter: an integer from 1 to 10,000. */
export function parsePartNumberParam(ctx: RequestContext): number {
  const raw = ctx.query.get('partNumber') ?? '';
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_PART_NUMBER) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: raw });
  }
  return n;
}

export function noSuchUpload(uploadId: string): S3Error {
  return new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
}

/** The upload named by `uploadId`, which must belong to this bucket and key. */
export async function uploadOf(ctx: RequestContext): Promise<UploadRow> {
  const uploadId = ctx.query.get('uploadId') ?? '';
  const u = await ctx.deps.meta.getUpload(uploadId);
  if (!u || u.bucket !== ctx.bucket || u.key !== ctx.key) throw noSuchUpload(uploadId);
  return u;
}

/** Runs inside a part's transaction: the upload must still be there (Abort may have won). */
function uploadStillThere(uploadId: string) {
  return (u: UploadRow | undefined) => {
    if (!u) throw noSuchUpload(uploadId);
  };
}

/**
 * Commits part N (UploadPart, UploadPartCopy) only if its upload is still
 * there in that transaction, replacing an earlier part N; blobs written for
 * it are removed when the commit fails, and a replaced part's are collected soon.
 */
export async function commitPart(
  ctx: RequestContext, part: PartRow, written: Written & { newBlobs: NewBlob[] },
): Promise<void> {
  await commitWritten(written, () => ctx.deps.meta.putPart({ part, newBlobs: written.newBlobs, check: uploadStillThere(part.uploadId) }));
  ctx.deps.jobs.collectSoon();
}

function checksumSettings(ctx: RequestContext): Pick<UploadMeta, 'checksumAlgorithm' | 'checksumType'> {
  const rawAlg = ctx.headers['x-amz-checksum-algorithm'];
  const rawType = ctx.headers['x-amz-checksum-type'];
  const algorithm = typeof rawAlg === 'string' ? checksumAlgorithmOf(rawAlg) : undefined;
  if (typeof rawType === 'string') {
    if (!algorithm) throw new S3Error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    const type = rawType.toUpperCase();
    if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
    if (type === 'COMPOSITE' && algorithm === 'CRC64NVME') throw new S3Error('InvalidRequest', 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.');
    if (type === 'FULL_OBJECT' && (algorithm === 'SHA1' || algorithm === 'SHA256')) {
      throw new S3Error('InvalidRequest', `The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
    }
    return { checksumAlgorithm: algorithm, checksumType: type };
  }
  if (!algorithm) return {};
  return { checksumAlgorithm: algorithm, checksumType: algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE' };
}

/**
 * GET/HEAD `partNumber=N` of a multipart object with checksum mode: a
 * COMPOSITE object answers the part's own checksum; a FULL_OBJECT one only
 * when its single part is the whole object (AWS's recorded behaviour).
 */
export function partChecksumHeaders(meta: StoredMeta, partNumber: number): Headers {
  const c = meta.checksum;
  const part = meta.parts?.[partNumber - 1];
  if (!c || !part) return {};
  if (c.type === 'COMPOSITE') return part.checksum ? { [checksumHeader(c.algorithm)]: part.checksum, 'x-amz-checksum-type': c.type } : {};
  return meta.parts!.length === 1 ? { [checksumHeader(c.algorithm)]: c.value, 'x-amz-checksum-type': c.type } : {};
}

/** Response headers that name an upload's checksum algorithm and type. */
export function uploadChecksumHeaders(m: UploadMeta): Headers {
  return m.checksumAlgorithm ? { 'x-amz-checksum-algorithm': m.checksumAlgorithm, 'x-amz-checksum-type': m.checksumType } : {};
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html */
export const CreateMultipartUpload: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const object = metaFromRequest(ctx);
  const tags = tagsFromHeader(ctx.headers['x-amz-tagging']);
  if (tags) object.tags = tags;
  const settings = checksumSettings(ctx);
  const sse = writeSse(ctx, bucket);
  if (sse) object.encryption = sse.meta;
  const current = await ctx.deps.meta.getVersion(bucket.name, ctx.key!);
  const meta: UploadMeta = { object, ...settings, initiator: ctx.principal?.accountId, keySeq: current?.seq ?? 0 };
  const uploadId = newUploadId();
  await ctx.deps.meta.createUpload({ uploadId, bucket: bucket.name, key: ctx.key!, initiated: Date.now(), meta }, bucket.id);
  const body = xmlDocument('InitiateMultipartUploadResult', { Bucket: bucket.name, Key: ctx.key, UploadId: uploadId });
  const encryption = sse ? sseHeaders(ctx, sse.meta, sse.customer, { context: true }) : {};
  return { status: 200, headers: { 'content-type': 'application/xml', ...uploadChecksumHeaders(meta), ...encryption }, body };
};

/**
 * The checksum a part must carry: the request's own, which must use the
 * upload's algorithm when the upload has one; without one, Tessera computes
 * {@link partAlgorithm} so that Complete can combine part checksums. A copied
 * part stores the value in that algorithm as `meta.checksum`, as an uploaded
 * one does.
 */
export function partChecksumRequest(ctx: RequestContext, m: UploadMeta): ChecksumRequest {
  const req = checksumRequest(ctx);
  if (req && m.checksumAlgorithm && req.algorithm !== m.checksumAlgorithm) {
    throw new S3Error('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${m.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${req.algorithm.toLowerCase()}`);
  }
  return req ?? { algorithm: partAlgorithm(m) };
}

/**
 * UploadPart: streams the body into a blob and records it as part N, replacing
 * (and freeing) an earlier part N. The part is committed only if the upload is
 * still there in that transaction: a part racing Abort or Complete either
 * lands before them or is discarded with NoSuchUpload, never left behind.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
 */
export const UploadPart: Handler = async (ctx) => {
  const partNumber = parsePartNumberParam(ctx);
  const upload = await uploadOf(ctx);
  const m = uploadMetaOf(upload);
  const asked = checksumRequest(ctx);
  const checksum = partChecksumRequest(ctx, m);
  const sse = partSse(ctx, m.object.encryption);
  const body = await ingest(ctx, { maxSize: MAX_PART_SIZE, checksum, extra: partAlgorithm(m), encryption: sse?.kek });
  const etag = sse ? sseEtag(sse.meta, body.md5) : body.md5.toString('hex');
  const meta: PartMeta = body.extra ? { checksum: body.extra.value } : {};
  await commitPart(ctx, { uploadId: upload.uploadId, partNumber, size: body.size, etag, lastModified: Date.now(), manifest: body.manifest, meta }, body);
  const headers: Headers = { etag: quoteEtag(etag) };
  // AWS echoes the checksum the client sent, or the upload's; never the silent default.
  if (body.checksum && (asked || m.checksumAlgorithm)) headers[checksumHeader(body.checksum.algorithm)] = body.checksum.value;
  if (sse) Object.assign(headers, sseHeaders(ctx, sse.meta, sse.customer));
  return { status: 200, headers };
};

/**
 * AbortMultipartUpload: the upload and its parts go in one transaction; their
 * blobs are freed for the collector. A part upload still streaming then fails
 * its commit and removes its own blob.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
 */
export const AbortMultipartUpload: Handler = async (ctx) => {
  const upload = await uploadOf(ctx);
  if (!(await ctx.deps.meta.abortUpload(upload.uploadId))) throw noSuchUpload(upload.uploadId);
  ctx.deps.jobs.collectSoon();
  return { status: 204 };
};
