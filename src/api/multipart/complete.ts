import { createHash } from 'node:crypto';
import { S3Error } from '../../errors.js';
import { bucketOf, header, type Handler, type Headers, type RequestContext } from '../context.js';
import { longRunning } from '../long-running.js';
import { xmlDocument, type XmlObject } from '../xml.js';
import type { BucketRow, PartRow, UploadRow, VersionInput, VersionRow } from '../../meta/types.js';
import { CHECKSUM_ALGORITHMS, checksumHeader, combineCrc, compositeChecksum, type ChecksumAlgorithm, type CrcAlgorithm } from '../../util/checksum.js';
import { readBody } from '../body.js';
import { MAX_COMPLETE_BODY, parseCompleteBody, type CompletedPart } from './complete-body.js';
import { writeConditions, type WriteConditions } from '../object/conditions.js';
import { quoteEtag, type StoredMeta } from '../object/meta.js';
import { noSuchUpload, partAlgorithm, uploadChecksumType, uploadMetaOf, uploadOf, type UploadMeta } from './upload.js';
import { sseHeaders, type SseMeta } from '../sse/sse.js';
import { writeTarget } from '../object/versions.js';

/**
 * CompleteMultipartUpload. The object's manifest is the concatenation of the
 * listed parts' manifests, written in one transaction that also drops the
 * upload and its parts (omitted parts are freed) and remembers the answer:
 * no part data is read or copied, so the cost grows with the number of parts,
 * not their size. Everything that depends on the upload's state (parts, ETags,
 * sizes, checksums, preconditions) is decided inside that transaction, so a
 * racing UploadPart, Abort or second Complete sees one consistent outcome.
 *
 * A retried Complete with the same part list, within
 * `config.completeRetryWindowMs` of the first success, gets the same answer.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 */

/** What Complete answers, kept so a retry gets it again. */
interface CompleteResult {
  bucket: string;
  key: string;
  etag: string;
  versionId?: string;
  checksum?: StoredMeta['checksum'];
  /** The object's encryption, echoed as AWS echoes it. */
  encryption?: SseMeta;
}

function invalidPart(uploadId: string, p: CompletedPart): S3Error {
  return new S3Error('InvalidPart', undefined, { UploadId: uploadId, PartNumber: p.PartNumber, ETag: p.ETag });
}

/** A listed part's Checksum* fields against the stored part, as AWS checks them. */
function checkPartChecksum(uploadId: string, m: UploadMeta, listed: CompletedPart, part: PartRow): void {
  const given = Object.keys(listed.checksums) as ChecksumAlgorithm[];
  const alg = m.checksumAlgorithm;
  if (!alg) {
    if (given.length) throw invalidPart(uploadId, listed);
    return;
  }
  const value = listed.checksums[alg];
  if (value === undefined) {
    if (m.checksumType !== 'COMPOSITE') return;
    if (given.length) throw new S3Error('BadDigest', `The ${given[0].toLowerCase()} you specified for part ${listed.PartNumber} did not match what we received.`);
    throw new S3Error('InvalidRequest', `The upload was created using a ${alg.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${listed.PartNumber} in the request.`);
  }
  if (value !== part.meta.checksum) throw invalidPart(uploadId, listed);
}

/** The object's checksum from its parts' stored checksums, without reading data. */
function objectChecksum(m: UploadMeta, parts: PartRow[]): StoredMeta['checksum'] {
  const algorithm = partAlgorithm(m);
  const type = uploadChecksumType(m);
  const raw: Buffer[] = [];
  for (const p of parts) {
    const c = p.meta.checksum;
    if (typeof c !== 'string') return undefined; // a part without one: the object gets none
    raw.push(Buffer.from(c, 'base64'));
  }
  if (type === 'COMPOSITE') return { algorithm, type, value: compositeChecksum(algorithm, raw) };
  let acc = raw[0];
  for (let i = 1; i < raw.length; i++) acc = combineCrc(algorithm as CrcAlgorithm, acc, raw[i], parts[i].size);
  return { algorithm, type, value: acc.toString('base64') };
}

/**
 * Conditional Complete: the usual If-None-Match / If-Match outcome against
 * the key's current version; a condition that holds but whose key changed
 * since the upload began (written, overwritten or deleted) is a 409
 * ConditionalRequestConflict, as AWS answers it.
 */
function checkCompleteConditions(c: WriteConditions, key: string, keySeq: number | undefined, current: VersionRow | undefined): void {
  if (!c.ifNoneMatchStar && c.ifMatch === undefined) return;
  const live = current && !current.deleteMarker ? current : undefined;
  const condition = c.ifNoneMatchStar ? 'If-None-Match' : 'If-Match';
  if (c.ifNoneMatchStar && live) throw new S3Error('PreconditionFailed', undefined, { Condition: condition });
  if (c.ifMatch !== undefined) {
    if (!live) throw new S3Error('NoSuchKey', undefined, { Key: key });
    if (live.etag !== c.ifMatch) throw new S3Error('PreconditionFailed', undefined, { Condition: condition });
  }
  if (keySeq !== undefined && (current?.seq ?? 0) !== keySeq) {
    throw new S3Error('ConditionalRequestConflict', undefined, { Condition: condition, Key: key });
  }
}

interface Plan {
  uploadId: string;
  key: string;
  listed: CompletedPart[];
  minPartSize: number;
  objectSize?: number;
  /** A full-object checksum the client declared in x-amz-checksum-*. */
  declared?: { algorithm: ChecksumAlgorithm; value: string };
  conditions: WriteConditions;
}

/** Runs inside the store's transaction: validates the listed parts and returns the new version. */
function assemble(plan: Plan, u: UploadRow | undefined, parts: Map<number, PartRow>, current: VersionRow | undefined): VersionInput {
  if (!u) throw noSuchUpload(plan.uploadId);
  const m = uploadMetaOf(u);
  const chosen: PartRow[] = [];
  plan.listed.forEach((listed, i) => {
    const part = parts.get(listed.PartNumber);
    if (!part || part.etag !== listed.ETag) throw invalidPart(plan.uploadId, listed);
    checkPartChecksum(plan.uploadId, m, listed, part);
    if (i < plan.listed.length - 1 && part.size < plan.minPartSize) {
      throw new S3Error('EntityTooSmall', undefined, { ETag: listed.ETag, MinSizeAllowed: plan.minPartSize, PartNumber: listed.PartNumber, ProposedSize: part.size });
    }
    chosen.push(part);
  });
  const size = chosen.reduce((n, p) => n + p.size, 0);
  if (plan.objectSize !== undefined && plan.objectSize !== size) {
    throw new S3Error('InvalidRequest', `The provided 'x-amz-mp-object-size' header value ${plan.objectSize} does not match what was computed: ${size}`);
  }
  const checksum = objectChecksum(m, chosen);
  if (plan.declared && checksum && !declaredMatches(plan.declared, checksum)) {
    throw new S3Error('BadDigest', `The ${checksum.algorithm.toLowerCase()} you specified did not match the calculated checksum.`);
  }
  checkCompleteConditions(plan.conditions, plan.key, m.keySeq, current);
  const md5s = Buffer.concat(chosen.map((p) => Buffer.from(p.etag, 'hex')));
  const etag = `${createHash('md5').update(md5s).digest('hex')}-${chosen.length}`;
  const meta: StoredMeta = {
    ...m.object,
    parts: chosen.map((p) => ({ size: p.size, etag: p.etag, checksum: typeof p.meta.checksum === 'string' ? p.meta.checksum : undefined })),
  };
  if (checksum) meta.checksum = checksum;
  return { deleteMarker: false, size, etag, lastModified: Date.now(), manifest: chosen.flatMap((p) => p.manifest), meta };
}

/**
 * A whole-object checksum the client declared on Complete against the one
 * computed: a FULL_OBJECT value exactly; a COMPOSITE one (the checksum of
 * the parts' checksums) with or without its `-N` part count, as clients send
 * either.
 */
function declaredMatches(declared: NonNullable<Plan['declared']>, computed: { algorithm: ChecksumAlgorithm; type: string; value: string }): boolean {
  if (declared.algorithm !== computed.algorithm) return false;
  if (computed.type !== 'COMPOSITE') return declared.value === computed.value;
  return declared.value === computed.value || declared.value === computed.value.replace(/-\d+$/, '');
}

/** `x-amz-checksum-type` must name the upload's mode; `x-amz-checksum-*` is at most one full-object value. */
function declaredChecksum(ctx: RequestContext, m: UploadMeta): Plan['declared'] {
  const type = header(ctx, 'x-amz-checksum-type');
  if (type !== undefined && (!m.checksumType || type.toUpperCase() !== m.checksumType)) {
    throw new S3Error('InvalidRequest', `The upload was created using the ${m.checksumType ?? 'null'} checksum mode. The complete request must use the same checksum mode.`);
  }
  const present = CHECKSUM_ALGORITHMS.filter((a) => ctx.headers[checksumHeader(a)] !== undefined);
  if (present.length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  if (present.length === 0) return undefined;
  const algorithm = present[0];
  // Without an upload algorithm only the default (CRC64NVME) is compared.
  if (!m.checksumAlgorithm && algorithm !== partAlgorithm(m)) return undefined;
  return { algorithm, value: String(header(ctx, checksumHeader(algorithm))) };
}

function objectSizeHeader(ctx: RequestContext): number | undefined {
  const raw = header(ctx, 'x-amz-mp-object-size');
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw new S3Error('InvalidRequest', `Value for x-amz-mp-object-size header is invalid: '${raw}'`);
  const n = Number(raw);
  if (n < 0) throw new S3Error('InvalidRequest', `Value for x-amz-mp-object-size header is less than zero: '${raw}'`);
  return n;
}

/** Identifies a Complete request for the retry window: target and part list. */
function fingerprintOf(bucket: string, key: string, parts: CompletedPart[]): string {
  const h = createHash('sha256').update(`${bucket}\n${key}\n`);
  for (const p of parts) h.update(`${p.PartNumber}:${p.ETag}\n`);
  return h.digest('hex');
}

/** Where the object lives, as AWS's Location: the bucket's URL and the encoded key. */
function locationOf(ctx: RequestContext, bucket: string, key: string): string {
  const host = header(ctx, 'host') ?? `${ctx.deps.config.host}:${ctx.deps.config.port}`;
  const scheme = ctx.secure ? 'https' : 'http';
  const path = key.split('/').map(encodeURIComponent).join('/');
  const virtual = host.toLowerCase().startsWith(`${bucket}.`);
  return virtual ? `${scheme}://${host}/${path}` : `${scheme}://${host}/${bucket}/${path}`;
}

/**
 * The object's encryption as Complete answers it: SSE-S3 and SSE-KMS
 * (algorithm, key ARN, bucket key), but no SSE-C headers
 * (CompleteMultipartUploadOutput has none; recorded: test_multipart_upload_sse_c).
 */
function completeSseHeaders(ctx: RequestContext, sse: SseMeta | undefined): Headers {
  return sse && sse.type !== 'SSE-C' ? sseHeaders(ctx, sse) : {};
}

function answer(ctx: RequestContext, r: CompleteResult): { headers: Headers; xml: string } {
  const body: XmlObject = { Location: locationOf(ctx, r.bucket, r.key), Bucket: r.bucket, Key: r.key, ETag: quoteEtag(r.etag) };
  const headers: Headers = {};
  if (r.checksum) {
    body[`Checksum${r.checksum.algorithm}`] = r.checksum.value;
    body.ChecksumType = r.checksum.type;
  }
  if (r.versionId !== undefined) headers['x-amz-version-id'] = r.versionId;
  Object.assign(headers, completeSseHeaders(ctx, r.encryption));
  return { headers, xml: xmlDocument('CompleteMultipartUploadResult', body) };
}

/** A Complete repeated within the retry window, with the same part list, gets the first answer again. */
async function replay(ctx: RequestContext, uploadId: string, fingerprint: string): Promise<{ headers: Headers; xml: string } | undefined> {
  const done = await ctx.deps.meta.getCompleted(uploadId);
  if (!done || done.fingerprint !== fingerprint) return undefined;
  if (Date.now() - done.completedAt > ctx.deps.config.completeRetryWindowMs) return undefined;
  return answer(ctx, done.result as unknown as CompleteResult);
}

async function complete(ctx: RequestContext, bucket: BucketRow, plan: Plan, fingerprint: string): Promise<{ headers: Headers; xml: string }> {
  const { versionId, mode } = writeTarget(bucket);
  let version: VersionRow;
  let result: CompleteResult | undefined;
  try {
    version = await ctx.deps.meta.completeUpload({
      uploadId: plan.uploadId, bucket: bucket.name, bucketId: bucket.id, key: plan.key, versionId, mode, fingerprint,
      // The store records the answer after build() ran in the same transaction: read it lazily.
      get result() {
        return result as unknown as Record<string, unknown>;
      },
      build: (u, parts, current) => {
        const v = assemble(plan, u, parts, current);
        const m = v.meta as StoredMeta;
        result = {
          bucket: bucket.name, key: plan.key, etag: v.etag, checksum: m.checksum, encryption: m.encryption,
          versionId: versionId !== 'null' ? versionId : undefined,
        };
        return v;
      },
    });
  } catch (e) {
    // A Complete that lost the race to an identical one answers as the winner did.
    if (e instanceof S3Error && e.code === 'NoSuchUpload') {
      const again = await replay(ctx, plan.uploadId, fingerprint);
      if (again) return again;
    }
    throw e;
  }
  ctx.deps.jobs.collectSoon();
  return answer(ctx, { ...result!, etag: version.etag });
}

/**
 * Order of checks: the upload (or a retry of a completed one), the checksum
 * mode and declared checksum, the body (InvalidRequest, MalformedXML,
 * InvalidPartOrder); then, in the transaction, each part (InvalidPart,
 * checksums, EntityTooSmall), the total size, the full-object checksum and
 * the preconditions. Work past the body may answer late through
 * {@link longRunning}.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 */
export const CompleteMultipartUpload: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const key = ctx.key!;
  const uploadId = ctx.query.get('uploadId') ?? '';
  const conditions = writeConditions(ctx);
  const text = await readBody(ctx, MAX_COMPLETE_BODY);
  let upload: UploadRow;
  try {
    upload = await uploadOf(ctx);
  } catch (e) {
    const again = e instanceof S3Error && text.trim() !== '' ? await replayFor(ctx, uploadId, bucket.name, key, text) : undefined;
    if (again) return { status: 200, headers: { 'content-type': 'application/xml', ...again.headers }, body: again.xml };
    throw e;
  }
  const m = uploadMetaOf(upload);
  const declared = declaredChecksum(ctx, m);
  const listed = parseCompleteBody(text, uploadId);
  const plan: Plan = { uploadId, key, listed, minPartSize: ctx.deps.config.minPartSize, objectSize: objectSizeHeader(ctx), declared, conditions };
  const res = await longRunning(ctx, complete(ctx, bucket, plan, fingerprintOf(bucket.name, key, listed)));
  // Known before any work: sent even when the answer goes out before the result.
  return { ...res, headers: { ...completeSseHeaders(ctx, m.object.encryption), ...res.headers } };
};

async function replayFor(ctx: RequestContext, uploadId: string, bucket: string, key: string, text: string) {
  let listed: CompletedPart[];
  try {
    listed = parseCompleteBody(text, uploadId);
  } catch {
    return undefined;
  }
  return replay(ctx, uploadId, fingerprintOf(bucket, key, listed));
}
