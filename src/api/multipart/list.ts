import { S3Error } from '../../errors.js';
import { bucketOf, type Handler, type RequestContext } from '../context.js';
import { xmlDocument, type XmlObject } from '../xml.js';
import type { UploadRow } from '../../meta/types.js';
import { prefixEnd } from '../../meta/keys.js';
import { uploadMetaOf, uploadOf, type UploadMeta } from './upload.js';

/**
 * ListParts and ListMultipartUploads: read-only views of uploads in progress,
 * paginated with AWS's markers and quirks (recorded answers of the real
 * service decide where the documentation is silent).
 */

const MAX_LIST = 1000;

/** A non-negative integer query parameter, or InvalidArgument as AWS words it. */
function intParam(ctx: RequestContext, name: string, def: number, max = 2147483647): number {
  const raw = ctx.query.get(name);
  if (raw === null || raw === '') return def;
  if (!/^-?\d+$/.test(raw) || Math.abs(Number(raw)) > 2147483647) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: raw });
  }
  const n = Number(raw);
  if (n < 0) throw new S3Error('InvalidArgument', `Argument ${name} must be an integer between 0 and ${max}`, { ArgumentName: name, ArgumentValue: String(n) });
  return n;
}

/** `encoding-type`: absent or `url`. */
function encodingType(ctx: RequestContext): 'url' | undefined {
  const raw = ctx.query.get('encoding-type');
  if (raw === null) return undefined;
  if (raw.toLowerCase() !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: raw });
  return 'url';
}

/** S3's `encoding-type=url` form: percent-encoding that keeps `/` and writes a space as `+`. */
export function urlEncodeKey(s: string): string {
  return encodeURIComponent(s).replace(/%2F/g, '/').replace(/%20/g, '+').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function person(ctx: RequestContext, accountId: string | undefined, withName: boolean): XmlObject {
  const a = accountId ? ctx.deps.accounts.account(accountId) : undefined;
  const id = a?.canonicalId ?? accountId ?? ctx.deps.accounts.root.canonicalId;
  return withName ? { ID: id, DisplayName: a?.displayName ?? ctx.deps.accounts.root.displayName } : { ID: id };
}

function storageClass(m: UploadMeta): string {
  return m.object.storageClass ?? 'STANDARD';
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html */
export const ListParts: Handler = async (ctx) => {
  const upload = await uploadOf(ctx);
  const m = uploadMetaOf(upload);
  const maxParts = Math.min(intParam(ctx, 'max-parts', MAX_LIST), MAX_LIST);
  const marker = intParam(ctx, 'part-number-marker', 0);
  const rows = maxParts === 0 ? [] : await ctx.deps.meta.listParts(upload.uploadId, marker, maxParts + 1);
  const truncated = rows.length > maxParts;
  const parts = rows.slice(0, maxParts);
  const alg = m.checksumAlgorithm;
  const body = xmlDocument('ListPartsResult', {
    Bucket: upload.bucket,
    Key: upload.key,
    UploadId: upload.uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: parts.length ? parts[parts.length - 1].partNumber : 0,
    MaxParts: maxParts,
    IsTruncated: truncated,
    Part: parts.map((p) => {
      const x: XmlObject = { PartNumber: p.partNumber, LastModified: new Date(p.lastModified).toISOString(), ETag: `"${p.etag}"`, Size: p.size };
      if (alg && typeof p.meta.checksum === 'string') x[`Checksum${alg}`] = p.meta.checksum;
      return x;
    }),
    Initiator: person(ctx, m.initiator, true),
    Owner: person(ctx, m.object.owner ?? m.initiator, false),
    StorageClass: storageClass(m),
    ChecksumAlgorithm: alg,
    ChecksumType: alg ? m.checksumType : undefined,
  });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
};

interface UploadsPage {
  uploads: UploadRow[];
  prefixes: string[];
  truncated: boolean;
}

/** The CommonPrefix a key rolls up into under `delimiter`, if any. */
function rollup(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter || !key.startsWith(prefix)) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}

/**
 * Walks uploads in (key, initiation) order after the markers, rolling keys
 * up into CommonPrefixes; each upload and each prefix counts toward `max`.
 * A key marker inside a CommonPrefix skips that whole prefix, as AWS does.
 */
async function pageOfUploads(ctx: RequestContext, bucket: string, q: { prefix: string; delimiter?: string; keyMarker: string; uploadIdMarker?: string; max: number }): Promise<UploadsPage> {
  const out: UploadsPage = { uploads: [], prefixes: [], truncated: false };
  let afterKey: string | undefined = q.keyMarker || undefined;
  let afterUploadId = afterKey ? q.uploadIdMarker : undefined;
  let fromKey: string | undefined;
  const markerPrefix = afterKey ? rollup(afterKey, q.prefix, q.delimiter) : undefined;
  if (markerPrefix) {
    fromKey = prefixEnd(markerPrefix);
    if (fromKey === undefined) return out;
    afterUploadId = undefined;
  }
  for (;;) {
    const batch = await ctx.deps.meta.listUploads(bucket, { prefix: q.prefix || undefined, afterKey, afterUploadId, fromKey, limit: 256 });
    for (const u of batch) {
      const cp = rollup(u.key, q.prefix, q.delimiter);
      if (cp !== undefined && out.prefixes[out.prefixes.length - 1] === cp) continue;
      if (out.uploads.length + out.prefixes.length >= q.max) {
        out.truncated = true;
        return out;
      }
      if (cp !== undefined) out.prefixes.push(cp);
      else out.uploads.push(u);
    }
    if (batch.length < 256) return out;
    const last = batch[batch.length - 1];
    afterKey = last.key;
    afterUploadId = last.uploadId;
    fromKey = undefined;
    const cp = rollup(last.key, q.prefix, q.delimiter);
    if (cp !== undefined) {
      fromKey = prefixEnd(cp);
      if (fromKey === undefined) return out;
    }
  }
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html */
export const ListMultipartUploads: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const max = Math.min(intParam(ctx, 'max-uploads', MAX_LIST), MAX_LIST);
  const enc = encodingType(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') || undefined;
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const uploadIdMarker = ctx.query.get('upload-id-marker') ?? '';
  if (keyMarker && uploadIdMarker) {
    const ref = await ctx.deps.meta.getUpload(uploadIdMarker);
    if (!ref || ref.bucket !== bucket.name || ref.key !== keyMarker) {
      throw new S3Error('InvalidArgument', 'Invalid uploadId marker', { ArgumentName: 'upload-id-marker', ArgumentValue: uploadIdMarker });
    }
  }
  const page = max === 0
    ? { uploads: [], prefixes: [], truncated: false }
    : await pageOfUploads(ctx, bucket.name, { prefix, delimiter, keyMarker, uploadIdMarker: uploadIdMarker || undefined, max });
  const e = (s: string) => (enc ? urlEncodeKey(s) : s);
  const last = page.uploads[page.uploads.length - 1];
  const body = xmlDocument('ListMultipartUploadsResult', {
    Bucket: bucket.name,
    KeyMarker: e(keyMarker),
    UploadIdMarker: keyMarker ? uploadIdMarker : '',
    NextKeyMarker: last ? e(last.key) : '',
    Prefix: prefix ? e(prefix) : undefined,
    Delimiter: delimiter ? e(delimiter) : undefined,
    NextUploadIdMarker: last ? last.uploadId : '',
    MaxUploads: max,
    IsTruncated: page.truncated,
    Upload: page.uploads.map((u) => {
      const m = uploadMetaOf(u);
      return {
        Key: e(u.key),
        UploadId: u.uploadId,
        Initiator: person(ctx, m.initiator, true),
        Owner: person(ctx, m.object.owner ?? m.initiator, false),
        StorageClass: storageClass(m),
        Initiated: new Date(u.initiated).toISOString(),
        ChecksumAlgorithm: m.checksumAlgorithm,
        ChecksumType: m.checksumAlgorithm ? m.checksumType : undefined,
      };
    }),
    CommonPrefixes: page.prefixes.map((p) => ({ Prefix: e(p) })),
    EncodingType: enc,
  });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
};
