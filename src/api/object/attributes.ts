import { S3Error } from '../../errors.js';
import { bucketOf, header, type Handler, type Headers, type RequestContext } from '../context.js';
import { xmlDocument, type XmlObject } from '../xml.js';
import type { VersionRow } from '../../meta/types.js';
import { metaOf, type StoredMeta } from './meta.js';
import { checkVersionId, isVersioned, readableVersion } from './versions.js';
import { readSse } from '../sse/sse.js';
import { authorizeKey } from '../access/authorize.js';

/**
 * GetObjectAttributes: what HeadObject and ListParts would say about a
 * version, without its bytes, limited to the attributes named in
 * `x-amz-object-attributes` (ETag, Checksum, ObjectParts, StorageClass,
 * ObjectSize). As recorded of AWS (oracle test_s3.snapshot.json,
 * test_get_object_attributes*, TestS3MultipartUploadChecksum):
 *
 * - the ETag is unquoted, and a COMPOSITE checksum carries no `-N` suffix;
 * - ObjectParts is only for multipart objects: with a COMPOSITE checksum it
 *   lists the parts (PartNumber, Size, Checksum<ALG>) a page at a time
 *   (`x-amz-max-parts`, `x-amz-part-number-marker`), otherwise it holds only
 *   PartsCount; a single-part object has none;
 * - Last-Modified and, once the bucket was ever versioned, x-amz-version-id
 *   are headers; a delete marker is 404 (current) or 405 (named), with
 *   x-amz-delete-marker, as GetObject answers.
 *
 * The caller needs `s3:GetObjectAttributes` (`s3:GetObjectVersionAttributes`
 * with a versionId), checked by authorize.ts, and `s3:GetObject`
 * (`s3:GetObjectVersion`), checked here.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html
 */

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

const MAX_PARTS = 1000;
const HEADER = 'x-amz-object-attributes';

/**
 * The names in `x-amz-object-attributes`: comma-separated, spaces around a
 * name ignored (the SDKs join a list with `, `), names case-sensitive.
 * Trailing commas are ignored; none at all is InvalidRequest, an unknown or
 * empty name InvalidArgument.
 */
function parseObjectAttributes(raw: string | undefined): Set<Attribute> {
  const names = (raw ?? '').split(',');
  while (names.length && names[names.length - 1].trim() === '') names.pop();
  if (names.length === 0) {
    throw new S3Error('InvalidRequest', 'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty');
  }
  const out = new Set<Attribute>();
  for (const n of names.map((s) => s.trim())) {
    if (!(ATTRIBUTES as readonly string[]).includes(n)) {
      throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', { ArgumentName: HEADER, ArgumentValue: n });
    }
    out.add(n as Attribute);
  }
  return out;
}

/** A non-negative integer header (`x-amz-max-parts`, `x-amz-part-number-marker`), worded as ListParts words its parameters. */
function intHeader(ctx: RequestContext, name: string, def: number): number {
  const raw = header(ctx, name)?.trim();
  if (raw === undefined || raw === '') return def;
  if (!/^-?\d+$/.test(raw) || Math.abs(Number(raw)) > 2147483647) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: raw });
  }
  const n = Number(raw);
  if (n < 0) throw new S3Error('InvalidArgument', `Argument ${name} must be an integer between 0 and 2147483647`, { ArgumentName: name, ArgumentValue: raw });
  return n;
}

function checksumOf(m: StoredMeta): XmlObject | undefined {
  const c = m.checksum;
  if (!c) return undefined;
  return { [`Checksum${c.algorithm}`]: c.type === 'COMPOSITE' ? c.value.replace(/-\d+$/, '') : c.value, ChecksumType: c.type };
}

/** ObjectParts of a multipart version: the page of parts only under a COMPOSITE checksum (recorded), else the count. */
function objectParts(ctx: RequestContext, m: StoredMeta): XmlObject | undefined {
  const parts = m.parts;
  if (!parts) return undefined;
  const maxParts = Math.min(intHeader(ctx, 'x-amz-max-parts', MAX_PARTS), MAX_PARTS);
  const marker = intHeader(ctx, 'x-amz-part-number-marker', 0);
  if (m.checksum?.type !== 'COMPOSITE') return { PartsCount: parts.length };
  const algorithm = m.checksum.algorithm;
  const page = parts.map((p, i) => ({ ...p, number: i + 1 })).filter((p) => p.number > marker).slice(0, maxParts);
  const last = page.length ? page[page.length - 1].number : 0;
  return {
    IsTruncated: last > 0 && last < parts.length,
    MaxParts: maxParts,
    NextPartNumberMarker: last,
    PartNumberMarker: marker,
    Part: page.map((p) => ({ [`Checksum${algorithm}`]: p.checksum, PartNumber: p.number, Size: p.size })),
    PartsCount: parts.length,
  };
}

function attributesBody(ctx: RequestContext, v: VersionRow, wanted: Set<Attribute>): string {
  const m = metaOf(v);
  // Element order of the AWS API reference (GetObjectAttributes, Response Syntax).
  return xmlDocument('GetObjectAttributesResponse', {
    ETag: wanted.has('ETag') ? v.etag : undefined,
    Checksum: wanted.has('Checksum') ? checksumOf(m) : undefined,
    ObjectParts: wanted.has('ObjectParts') ? objectParts(ctx, m) : undefined,
    StorageClass: wanted.has('StorageClass') ? m.storageClass ?? 'STANDARD' : undefined,
    ObjectSize: wanted.has('ObjectSize') ? v.size : undefined,
  });
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html */
export const GetObjectAttributes: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const key = ctx.key!;
  const versionId = checkVersionId(bucket, ctx.query.get('versionId'));
  // authorize.ts checked the Attributes action; AWS also requires the read action.
  await authorizeKey(ctx, 'GetObject', key, versionId);
  const wanted = parseObjectAttributes(header(ctx, HEADER));
  const v = await readableVersion(ctx.deps, bucket, key, versionId, { method: ctx.method });
  // An SSE-C object needs its key, as HeadObject does; the answer echoes none of it.
  readSse(ctx, metaOf(v).encryption, { body: false });
  const body = attributesBody(ctx, v, wanted);
  const headers: Headers = { 'content-type': 'application/xml', 'last-modified': new Date(v.lastModified).toUTCString() };
  if (isVersioned(bucket)) headers['x-amz-version-id'] = v.versionId;
  return { status: 200, headers, body };
};
