import { S3Error } from '../../errors.js';
import { bucketOf, header, type Deps, type Handler, type RequestContext } from '../context.js';
import { longRunning } from '../long-running.js';
import { xmlDocument } from '../xml.js';
import { BlobGone, type BucketRow, type Extent, type UploadRow } from '../../meta/types.js';
import type { ChecksumAlgorithm } from '../../util/checksum.js';
import { checkWriteConditions, writeConditions, type WriteConditions } from '../object/conditions.js';
import {
  checkDestinationOwner, copyRangeHeader, copySourceVersionHeader, parseCopySource,
  requestCharged, resolveCopyRange, resolveSource, type CopySource, type ResolvedSource,
} from './source.js';
import { SOURCE_PREFIX } from '../../crypto/ssec.js';
import { commitPart, MAX_PART_SIZE, partAlgorithm, parsePartNumberParam, uploadMetaOf, uploadOf, type PartMeta } from '../multipart/upload.js';
import { metaFromRequest, quoteEtag, type StoredMeta } from '../object/meta.js';
import { digestExtents, type Digest } from '../../engine/digest.js';
import { sliceManifest } from '../../engine/read.js';
import { tagsFromHeader, type Tags } from '../object/tagging.js';
import { customerKeyOf, partSse, sseEtag, sseHeaders, sseOf, writeSse, type SseMeta, type SseReadKeys, type WriteSse } from '../sse/sse.js';
import { copyExtents, copyObjectSse, copySourceKeys, hidesMd5 } from '../sse/copy.js';
import { isVersioned, writeTarget } from '../object/versions.js';
import { checkCopyAcl } from '../access/ownership.js';
import { commitWritten } from '../../engine/ingest.js';
import { checksumAlgorithmOf } from '../object/ingest.js';

/**
 * UploadPartCopy and CopyObject. Both are zero-copy: the new part or version
 * references a slice of the source version's manifest (read once, a
 * consistent snapshot of immutable blobs), and no data byte is written. The
 * only data cost is one read pass to compute the MD5 (and a flexible
 * checksum) of the copied bytes, skipped when the MD5 is already known: the
 * source's own MD5 ETag for a whole single-part source, or the stored MD5 of
 * a blob the range covers exactly. A CRC64NVME of plaintext file blobs needs
 * no pass: it derives from their stored prefix checkpoints (api/blob-digest.ts). Encrypted sources and destinations
 * rewrap data keys instead of re-encrypting (api/sse-copy.ts); only
 * plaintext copied into an encrypted destination is written again. If the source's blobs were collected
 * between the read and the commit (`BlobGone`), the source is read again and
 * the copy retried, so the result is always the old or the new source, whole.
 */

/** CopyObject's limit on the source size (AWS: use UploadPartCopy beyond it). */
export const MAX_COPY_SOURCE_SIZE = 5 * 1024 ** 3;

const MAX_ATTEMPTS = 5;

/**
 * The MD5 and/or a checksum of the bytes `extents` name, reading only what
 * stored digests cannot give (api/blob-digest.ts): none for one whole blob's
 * MD5 or a CRC64NVME from checkpoints, else one pass in a hashing thread. A
 * blob that vanished while being read reads as BlobGone.
 */
function digestOf(deps: Deps, extents: Extent[], want: { md5: boolean; algorithm?: ChecksumAlgorithm }, keys?: SseReadKeys): Promise<Digest> {
  return digestExtents(deps, extents, want, keys);
}

/** The source's MD5 when its ETag is one: a single-part object's ETag is the MD5 of its bytes. */
function knownMd5(s: ResolvedSource, start: number, end: number): string | undefined {
  const whole = start === 0 && end === s.v.size;
  // An SSE-C or SSE-KMS source's ETag is not the MD5 of its bytes.
  return whole && !s.meta.parts && !hidesMd5(sseOf(s.meta)) && /^[0-9a-f]{32}$/.test(s.v.etag) ? s.v.etag : undefined;
}

/** The source's stored full-object checksum, when it is the one wanted for the whole source. */
function knownChecksum(s: ResolvedSource, start: number, end: number, algorithm: ChecksumAlgorithm | undefined): string | undefined {
  const c = s.meta.checksum;
  const whole = start === 0 && end === s.v.size;
  return whole && c && c.type === 'FULL_OBJECT' && c.algorithm === algorithm ? c.value : undefined;
}

/**
 * MD5 and checksum of source bytes [start, end), reusing what the source
 * already knows; encrypted extents are read with the source's `keys`. The
 * ETag of an SSE-C or SSE-KMS destination is no MD5 (api/sse.ts sseEtag): none is computed.
 */
async function digestRange(
  deps: Deps, s: ResolvedSource, extents: Extent[], start: number, end: number, algorithm?: ChecksumAlgorithm,
  enc: { keys?: SseReadKeys; dest?: WriteSse } = {},
) {
  const md5 = hidesMd5(enc.dest?.meta) ? sseEtag(enc.dest!.meta, Buffer.alloc(0)) : knownMd5(s, start, end);
  const checksum = algorithm ? knownChecksum(s, start, end, algorithm) : undefined;
  const d = await digestOf(deps, extents, { md5: md5 === undefined, algorithm: checksum === undefined ? algorithm : undefined }, enc.keys);
  return { md5: md5 ?? d.md5!, checksum: checksum ?? d.checksum };
}

/**
 * Resolves the source and runs `attempt` on it; when the source's blobs were
 * collected meanwhile, resolves the source again (it may now be another
 * version, or gone) and retries.
 */
async function withSource<T>(ctx: RequestContext, src: CopySource, attempt: (s: ResolvedSource) => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    const s = await resolveSource(ctx, src);
    try {
      return await attempt(s);
    } catch (e) {
      if (!(e instanceof BlobGone) || i >= MAX_ATTEMPTS) throw e;
    }
  }
}

function checksumElement(algorithm: ChecksumAlgorithm | undefined, value: string | undefined): Record<string, string> {
  return algorithm && value ? { [`Checksum${algorithm}`]: value } : {};
}

/**
 * UploadPartCopy: part `partNumber` of the upload becomes a slice of the
 * source (the whole source without `x-amz-copy-source-range`). Its ETag is
 * the MD5 of the copied bytes. Like an uploaded part it carries a checksum in
 * the upload's algorithm, or CRC64NVME when the upload named none (answered
 * only in the former case), so Complete can combine it; a whole source whose
 * stored full-object checksum is in that algorithm gives it without a read,
 * otherwise it comes from the same single read pass as the MD5. A part number used
 * before is replaced. Answered through `longRunning`.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html
 */
export const UploadPartCopy: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  checkDestinationOwner(ctx, bucket);
  const partNumber = parsePartNumberParam(ctx);
  const src = parseCopySource(ctx);
  const range = copyRangeHeader(ctx);
  customerKeyOf(ctx, SOURCE_PREFIX);
  const upload = await uploadOf(ctx);
  const dest = partSse(ctx, uploadMetaOf(upload).object.encryption as SseMeta | undefined);
  return longRunning(ctx, withSource(ctx, src, (s) => copyPart(ctx, bucket, upload, partNumber, s, range, dest)));
};

async function copyPart(
  ctx: RequestContext, bucket: BucketRow, upload: UploadRow, partNumber: number, s: ResolvedSource,
  range: { first: number; last: number } | undefined, dest: WriteSse | undefined,
) {
  const keys = copySourceKeys(ctx, s);
  const { start, end } = resolveCopyRange(ctx, range, s.v.size);
  if (end - start > MAX_PART_SIZE) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: end - start, MaxSizeAllowed: MAX_PART_SIZE });
  const manifest = sliceManifest(s.v.manifest, start, end);
  const m = uploadMetaOf(upload);
  // Every part carries a checksum in partAlgorithm(m), so Complete gives the object one without reading.
  const { md5, checksum } = await digestRange(ctx.deps, s, manifest, start, end, partAlgorithm(m), { keys, dest });
  const copied = await copyExtents(ctx, manifest, keys, dest);
  const lastModified = Date.now();
  const meta: PartMeta = checksum ? { checksum } : {};
  await commitPart(ctx, { uploadId: upload.uploadId, partNumber, size: end - start, etag: md5, lastModified, manifest: copied.manifest, meta }, copied);
  const xml = xmlDocument('CopyPartResult', {
    // Only an upload that named an algorithm answers the checksum; the default one stays silent, as for UploadPart.
    ETag: quoteEtag(md5), LastModified: new Date(lastModified).toISOString(), ...checksumElement(m.checksumAlgorithm, checksum),
  });
  return { headers: { ...copySourceVersionHeader(s), ...requestCharged(ctx, bucket, s.bucket), ...sseHeaders(ctx, dest?.meta, dest?.customer) }, xml };
}

/** `x-amz-metadata-directive` / `x-amz-tagging-directive`: COPY (default) or REPLACE. */
function directive(ctx: RequestContext, name: string, what: string): 'COPY' | 'REPLACE' {
  const v = header(ctx, name);
  if (v === undefined || v === 'COPY') return 'COPY';
  if (v === 'REPLACE') return 'REPLACE';
  throw new S3Error('InvalidArgument', `Unknown ${what} directive.`, { ArgumentName: name, ArgumentValue: v });
}

/** `x-amz-checksum-algorithm` on CopyObject: the checksum the copy should carry. */
function requestedChecksum(ctx: RequestContext): ChecksumAlgorithm | undefined {
  const raw = header(ctx, 'x-amz-checksum-algorithm');
  if (raw === undefined) return undefined;
  return checksumAlgorithmOf(raw);
}

/** What a CopyObject request asks for, read once before the source is. */
interface CopyObjectRequest {
  bucket: BucketRow;
  key: string;
  src: CopySource;
  metadata: 'COPY' | 'REPLACE';
  tagging: 'COPY' | 'REPLACE';
  fromRequest: StoredMeta;
  tags?: Tags;
  conditions: WriteConditions;
  checksum?: ChecksumAlgorithm;
  /** The destination encryption the request or the bucket asks for. */
  sse?: WriteSse;
}

/**
 * CopyObject: a new version of the destination key that references the
 * source version's whole manifest. Metadata and tags are the source's
 * (COPY, the default) or the request's (REPLACE); the storage class and the
 * object lock and restore state are never copied. A single-part source keeps
 * its MD5 ETag and FULL_OBJECT checksum without any read. A multipart source
 * becomes a single-part object, as AWS does (recorded: a copied one-part
 * multipart object gets the plain MD5 of its bytes as ETag), which costs one
 * read pass for the MD5; a COMPOSITE checksum is recomputed as a FULL_OBJECT
 * one in the same pass. Sources over 5 GiB must be copied with UploadPartCopy.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
 */
export const CopyObject: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  checkDestinationOwner(ctx, bucket);
  const req: CopyObjectRequest = {
    bucket, key: ctx.key!, src: parseCopySource(ctx),
    metadata: directive(ctx, 'x-amz-metadata-directive', 'metadata'),
    tagging: directive(ctx, 'x-amz-tagging-directive', 'tagging'),
    conditions: writeConditions(ctx),
    checksum: requestedChecksum(ctx),
    fromRequest: metaFromRequest(ctx),
  };
  if (req.tagging === 'REPLACE') req.tags = tagsFromHeader(ctx.headers['x-amz-tagging']);
  customerKeyOf(ctx, SOURCE_PREFIX);
  req.sse = writeSse(ctx, bucket);
  return longRunning(ctx, withSource(ctx, req.src, (s) => copyObject(ctx, req, s)));
};

const IN_PLACE = "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.";

/**
 * Copying the current version onto itself must change something: metadata
 * (REPLACE), storage class, website redirect, encryption, or restore a
 * restored archive; a conditional write makes it a deliberate refresh.
 * Copying an older version over the current one (a "restore") is always allowed.
 */
function checkInPlace(ctx: RequestContext, req: CopyObjectRequest, s: ResolvedSource): void {
  const same = s.bucket.name === req.bucket.name && s.v.key === req.key && (req.src.versionId === undefined || s.v.isLatest);
  if (!same) return;
  const has = (name: string) => ctx.headers[name] !== undefined;
  const changes = req.metadata === 'REPLACE' || has('x-amz-storage-class') || has('x-amz-website-redirect-location')
    || has('x-amz-server-side-encryption') || has('x-amz-server-side-encryption-customer-algorithm') || req.bucket.config.encryption !== undefined
    || s.meta.restore !== undefined || has('if-match') || has('if-none-match');
  if (!changes) throw new S3Error('InvalidRequest', IN_PLACE);
}

const COPIED_FIELDS: Array<keyof StoredMeta> = ['contentType', 'contentEncoding', 'contentDisposition', 'contentLanguage', 'cacheControl', 'expires', 'user', 'websiteRedirect'];

/** The new version's metadata under the directives. */
function copiedMeta(req: CopyObjectRequest, s: ResolvedSource): StoredMeta {
  let meta: StoredMeta;
  if (req.metadata === 'REPLACE') {
    meta = { ...req.fromRequest };
  } else {
    meta = {};
    for (const f of COPIED_FIELDS) if (s.meta[f] !== undefined) meta[f] = s.meta[f];
    for (const f of ['storageClass', 'websiteRedirect', 'owner'] as const) if (req.fromRequest[f] !== undefined) meta[f] = req.fromRequest[f];
  }
  const tags = req.tagging === 'REPLACE' ? req.tags : s.meta.tags;
  if (tags?.length) meta.tags = tags;
  else delete meta.tags;
  return meta;
}

async function copyObject(ctx: RequestContext, req: CopyObjectRequest, s: ResolvedSource) {
  const keys = copySourceKeys(ctx, s);
  if (s.v.size > MAX_COPY_SOURCE_SIZE) {
    throw new S3Error('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_COPY_SOURCE_SIZE}`);
  }
  checkInPlace(ctx, req, s);
  checkCopyAcl(ctx);
  const meta = copiedMeta(req, s);
  const dest = copyObjectSse(ctx, req.sse, s);
  if (dest) meta.encryption = dest.meta;
  const algorithm = req.checksum ?? s.meta.checksum?.algorithm;
  const { md5, checksum } = await digestRange(ctx.deps, s, s.v.manifest, 0, s.v.size, algorithm, { keys, dest });
  if (algorithm && checksum) meta.checksum = { algorithm, type: 'FULL_OBJECT', value: checksum };
  const copied = await copyExtents(ctx, s.v.manifest, keys, dest);
  const { versionId, mode } = writeTarget(req.bucket);
  const lastModified = Date.now();
  await commitWritten(copied, () => ctx.deps.meta.putVersion({
    bucket: req.bucket.name, bucketId: req.bucket.id, key: req.key, versionId, mode, newBlobs: copied.newBlobs,
    version: { deleteMarker: false, size: s.v.size, etag: md5, lastModified, manifest: copied.manifest, meta },
    check: (current) => checkWriteConditions(req.conditions, req.key, current),
  }));
  ctx.deps.jobs.collectSoon();
  const headers: Record<string, string> = { ...copySourceVersionHeader(s), ...requestCharged(ctx, req.bucket, s.bucket) };
  Object.assign(headers, sseHeaders(ctx, dest?.meta, dest?.customer, { context: true }));
  if (isVersioned(req.bucket)) headers['x-amz-version-id'] = versionId;
  const xml = xmlDocument('CopyObjectResult', {
    ETag: quoteEtag(md5), LastModified: new Date(lastModified).toISOString(),
    ChecksumType: checksum ? 'FULL_OBJECT' : undefined, ...checksumElement(algorithm, checksum),
  });
  return { headers, xml };
}
