import { S3Error } from '../../errors.js';
import { bucketOf, type Handler, type RequestContext } from '../context.js';
import { xmlDocument, type XmlObject } from '../xml.js';
import {
  encoderFor, listDate, MAX_KEYS, objectFields, ownerOf, param, parseEncodingType, parseMaxKeys, resumeAfter, walk, type Entry,
} from './listing.js';

/**
 * ListObjects and ListObjectsV2: the keys whose current version is an object
 * (a key whose current version is a delete marker is hidden), in UTF-8 byte
 * order, with keys folded into CommonPrefixes at the delimiter. Keys
 * round-trip exactly: without `encoding-type=url` they are XML-escaped text,
 * with it they are S3-url-encoded.
 */

interface Page {
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  encodingType?: 'url';
  encode: (s: string) => string;
  entries: Entry[];
  truncated: boolean;
}

async function listPage(ctx: RequestContext, marker: string | undefined): Promise<Page> {
  const bucket = bucketOf(ctx);
  const encodingType = parseEncodingType(ctx);
  const maxKeys = parseMaxKeys(ctx);
  const prefix = param(ctx, 'prefix') ?? '';
  const delimiter = param(ctx, 'delimiter');
  const resume = resumeAfter(marker, prefix, delimiter);
  const { entries, truncated } = await walk(ctx, bucket.name, { prefix, delimiter, resume, maxKeys: Math.min(maxKeys, MAX_KEYS), latestOnly: true });
  return { prefix, delimiter, maxKeys, encodingType, encode: encoderFor(encodingType), entries, truncated };
}

function contents(ctx: RequestContext, page: Page, withOwner: boolean): XmlObject[] {
  const out: XmlObject[] = [];
  for (const e of page.entries) {
    if (!e.v) continue;
    const { ETag, ChecksumAlgorithm, ChecksumType, Size, StorageClass } = objectFields(e.v);
    out.push({
      Key: page.encode(e.v.key), LastModified: listDate(e.v.lastModified), ETag, ChecksumAlgorithm, ChecksumType, Size,
      Owner: withOwner ? ownerOf(ctx, e.v) : undefined, StorageClass,
    });
  }
  return out;
}

function commonPrefixes(page: Page): XmlObject[] {
  return page.entries.filter((e) => e.prefix !== undefined).map((e) => ({ Prefix: page.encode(e.prefix!) }));
}

function lastEntryName(page: Page): string | undefined {
  const last = page.entries[page.entries.length - 1];
  return last ? (last.prefix ?? last.v!.key) : undefined;
}

const xml = (root: string, body: XmlObject) => ({ status: 200, headers: { 'content-type': 'application/xml' }, body: xmlDocument(root, body) });

/**
 * ListObjects (version 1): `marker` to resume; `NextMarker` only when a
 * delimiter is given and the page is truncated (recorded), the last key or
 * CommonPrefix of the page.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html
 */
export const ListObjects: Handler = async (ctx) => {
  const marker = param(ctx, 'marker');
  const page = await listPage(ctx, marker);
  const next = page.delimiter && page.truncated ? lastEntryName(page) : undefined;
  return xml('ListBucketResult', {
    Name: ctx.bucket!,
    Prefix: page.encode(page.prefix),
    Marker: page.encode(marker ?? ''),
    NextMarker: next === undefined ? undefined : page.encode(next),
    MaxKeys: page.maxKeys,
    Delimiter: page.delimiter === undefined ? undefined : page.encode(page.delimiter),
    IsTruncated: page.truncated,
    EncodingType: page.encodingType,
    Contents: contents(ctx, page, true),
    CommonPrefixes: commonPrefixes(page),
  });
};

/**
 * A continuation token is opaque to clients: the base64url of a version byte
 * and the last key (or CommonPrefix) of the page it continues.
 */
function continuationToken(last: string): string {
  return Buffer.from('\u0001' + last, 'utf8').toString('base64url');
}

function parseContinuationToken(raw: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(raw) ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  if (!text.startsWith('\u0001') || continuationToken(text.slice(1)) !== raw) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  return text.slice(1);
}

/**
 * ListObjectsV2: `continuation-token` (which wins over `start-after`),
 * `start-after`, `fetch-owner`, `KeyCount` (keys plus CommonPrefixes).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 */
export const ListObjectsV2: Handler = async (ctx) => {
  const token = ctx.query.get('continuation-token');
  const startAfter = param(ctx, 'start-after');
  const marker = token !== null ? parseContinuationToken(token) : startAfter;
  const page = await listPage(ctx, marker);
  const last = page.truncated ? lastEntryName(page) : undefined;
  return xml('ListBucketResult', {
    Name: ctx.bucket!,
    Prefix: page.encode(page.prefix),
    ContinuationToken: token ?? undefined,
    NextContinuationToken: last === undefined ? undefined : continuationToken(last),
    StartAfter: token === null && startAfter !== undefined ? page.encode(startAfter) : undefined,
    KeyCount: page.entries.length,
    MaxKeys: page.maxKeys,
    Delimiter: page.delimiter === undefined ? undefined : page.encode(page.delimiter),
    IsTruncated: page.truncated,
    EncodingType: page.encodingType,
    Contents: contents(ctx, page, ctx.query.get('fetch-owner') === 'true'),
    CommonPrefixes: commonPrefixes(page),
  });
};
