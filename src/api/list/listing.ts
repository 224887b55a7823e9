import { S3Error } from '../../errors.js';
import type { RequestContext } from '../context.js';
import { prefixEnd } from '../../meta/keys.js';
import type { ListVersionsQuery, VersionRow } from '../../meta/types.js';
import { metaOf, quoteEtag } from '../object/meta.js';

/**
 * The engine shared by ListObjects, ListObjectsV2 and ListObjectVersions:
 * query parameters, the `encoding-type=url` encoding, and the walk over
 * versions in key order that folds keys into CommonPrefixes.
 *
 * Invariant of the walk: once a CommonPrefix is emitted, the next store query
 * starts at `prefixEnd(prefix)`, so the keys under a common prefix cost at
 * most one small batch of rows, never a scan of all of them.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 */

/** The most entries one page holds, whatever max-keys asks for. */
export const MAX_KEYS = 1000;

/** An entry of a listing page: one version (or delete marker), or one CommonPrefix. */
export type Entry = { v: VersionRow; prefix?: undefined } | { prefix: string; v?: undefined };

/** Where a walk resumes; `exhausted` when nothing can follow. */
export type Resume = Pick<ListVersionsQuery, 'afterKey' | 'afterSeq' | 'fromKey'> & { exhausted?: boolean };

/** A query parameter, with the empty string read as absent (as S3 reads prefix, delimiter, markers). */
export function param(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.query.get(name);
  return v === null || v === '' ? undefined : v;
}

/**
 * `max-keys`: an integer from 0 to 2^31-1; more than 1000 is answered with
 * 1000 at most; 0 is an empty, untruncated page. Empty is the default, as S3
 * reads empty integer parameters. ListObjectVersions words a negative value
 * its own way, as AWS does.
 */
export function parseMaxKeys(ctx: RequestContext, negativeMessage?: string): number {
  const raw = ctx.query.get('max-keys');
  if (raw === null || raw === '') return MAX_KEYS;
  if (negativeMessage && /^-\d+$/.test(raw)) throw new S3Error('InvalidArgument', negativeMessage, { ArgumentName: 'max-keys', ArgumentValue: raw });
  if (!/^\d+$/.test(raw) || Number(raw) > 2 ** 31 - 1) {
    throw new S3Error('InvalidArgument', 'Argument maxKeys must be an integer between 0 and 2147483647', { ArgumentName: 'maxKeys', ArgumentValue: raw });
  }
  return Number(raw);
}

/** `encoding-type`: absent, or exactly `url` (recorded: anything else, even empty, is InvalidArgument). */
export function parseEncodingType(ctx: RequestContext): 'url' | undefined {
  const raw = ctx.query.get('encoding-type');
  if (raw === null) return undefined;
  if (raw !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: raw });
  return 'url';
}

const UNRESERVED = /[A-Za-z0-9\-_.\/*]/;

/**
 * S3's `encoding-type=url`: UTF-8 percent-encoding (upper-case hex) of every
 * byte but letters, digits and `-_./*`, with a space as `+`.
 */
export function s3UrlEncode(s: string): string {
  let out = '';
  for (const ch of s) {
    if (UNRESERVED.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** The encoder a response applies to keys, prefixes, delimiters and markers. */
export function encoderFor(encodingType: 'url' | undefined): (s: string) => string {
  return encodingType === 'url' ? s3UrlEncode : (s) => s;
}

/** Listing timestamps: ISO 8601 with the milliseconds S3 always prints as `.000`. */
export function listDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString();
}

/** `<Owner>` of a version, by its writer's canonical id. */
export function ownerOf(ctx: RequestContext, v: VersionRow): { ID: string } {
  const accountId = metaOf(v).owner ?? ctx.bucketRow?.ownerId ?? '';
  return { ID: ctx.deps.accounts.account(accountId)?.canonicalId ?? accountId };
}

/** The fields every listing shows of an object version, in AWS's order. */
export function objectFields(v: VersionRow): { ETag: string; ChecksumAlgorithm?: string; ChecksumType?: string; Size: number; StorageClass: string } {
  const m = metaOf(v);
  return {
    ETag: quoteEtag(v.etag),
    ChecksumAlgorithm: m.checksum?.algorithm,
    ChecksumType: m.checksum?.type,
    Size: v.size,
    StorageClass: m.storageClass ?? 'STANDARD',
  };
}

/** The CommonPrefix `key` rolls into, or undefined when it is listed by itself. */
export function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const i = key.indexOf(delimiter, prefix.length);
  return i < 0 ? undefined : key.slice(0, i + delimiter.length);
}

/** Resumes at the first key past every key that starts with `cp`. */
function pastPrefix(cp: string): Resume {
  const end = prefixEnd(cp);
  return end === undefined ? { exhausted: true } : { fromKey: end };
}

/**
 * Where a listing resumes after a marker (marker, start-after, continuation
 * token, key-marker): strictly after it, except that a marker which falls in
 * a CommonPrefix of this listing skips that whole prefix (recorded: AWS never
 * lists a CommonPrefix again on the next page).
 */
export function resumeAfter(marker: string | undefined, prefix: string, delimiter: string | undefined): Resume {
  if (marker === undefined) return {};
  const cp = marker.startsWith(prefix) ? commonPrefixOf(marker, prefix, delimiter) : undefined;
  return cp !== undefined ? pastPrefix(cp) : { afterKey: marker };
}

export interface WalkOptions {
  prefix: string;
  delimiter?: string;
  resume: Resume;
  maxKeys: number;
  /** Only keys whose current version is an object (ListObjects); otherwise every version and delete marker. */
  latestOnly: boolean;
}

/**
 * One page of a listing: up to `maxKeys` entries in key order (newest version
 * first within a key), and whether more follow. Batches start small when a
 * delimiter may fold rows into prefixes, and grow while none does.
 */
export async function walk(ctx: RequestContext, bucket: string, o: WalkOptions): Promise<{ entries: Entry[]; truncated: boolean }> {
  const want = o.maxKeys + 1;
  const entries: Entry[] = [];
  let at: Resume = o.resume;
  let batch = o.delimiter ? 16 : MAX_KEYS + 1;
  while (o.maxKeys > 0 && entries.length < want && !at.exhausted) {
    const limit = Math.min(want - entries.length, batch);
    const rows = await ctx.deps.meta.listVersions(bucket, { prefix: o.prefix || undefined, latestOnly: o.latestOnly, limit, ...at });
    let folded = false;
    for (const v of rows) {
      const cp = commonPrefixOf(v.key, o.prefix, o.delimiter);
      if (cp !== undefined) {
        entries.push({ prefix: cp });
        at = pastPrefix(cp);
        folded = true;
        break;
      }
      entries.push({ v });
      at = o.latestOnly ? { afterKey: v.key } : { afterKey: v.key, afterSeq: v.seq };
      if (entries.length >= want) break;
    }
    if (!folded && rows.length < limit) break;
    batch = folded ? 16 : Math.min(batch * 2, MAX_KEYS + 1);
  }
  const truncated = entries.length > o.maxKeys;
  return { entries: entries.slice(0, o.maxKeys), truncated };
}
