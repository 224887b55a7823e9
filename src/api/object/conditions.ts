import { S3Error } from '../../errors.js';
import type { RequestContext } from '../context.js';
import type { VersionRow } from '../../meta/types.js';
import { unquoteEtag } from './meta.js';

/** The four HTTP preconditions on an object's ETag and Last-Modified. */
export interface ReadConditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

/** Which condition failed, and whether it means 304 (not modified) or 412. */
export interface ConditionFailure {
  kind: 'not-modified' | 'precondition';
  which: keyof ReadConditions;
}

/** An HTTP date, or undefined when it does not parse (AWS ignores such conditions). */
function httpDate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
}

function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((t) => {
    const s = t.trim();
    return s === '*' || unquoteEtag(s) === etag;
  });
}

/**
 * AWS's precedence (RFC 7232 §6): If-Match decides alone when present, else
 * If-Unmodified-Since; then If-None-Match decides alone when present, else
 * If-Modified-Since. So if-match true + if-unmodified-since false succeeds, and
 * if-none-match false + if-modified-since true fails. A date in the future or
 * one that does not parse is ignored.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 */
export function evaluateConditions(c: ReadConditions, etag: string, lastModifiedMs: number, now = Date.now()): ConditionFailure | undefined {
  const modified = Math.floor(lastModifiedMs / 1000);
  const nowS = Math.floor(now / 1000);
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, etag)) return { kind: 'precondition', which: 'ifMatch' };
  } else {
    const t = httpDate(c.ifUnmodifiedSince);
    if (t !== undefined && modified > t) return { kind: 'precondition', which: 'ifUnmodifiedSince' };
  }
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, etag)) return { kind: 'not-modified', which: 'ifNoneMatch' };
  } else {
    const t = httpDate(c.ifModifiedSince);
    if (t !== undefined && t <= nowS && modified <= t) return { kind: 'not-modified', which: 'ifModifiedSince' };
  }
  return undefined;
}

function h(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function readConditions(ctx: RequestContext, prefix = ''): ReadConditions {
  return {
    ifMatch: h(ctx, prefix + 'if-match'),
    ifNoneMatch: h(ctx, prefix + 'if-none-match'),
    ifModifiedSince: h(ctx, prefix + 'if-modified-since'),
    ifUnmodifiedSince: h(ctx, prefix + 'if-unmodified-since'),
  };
}

const HTTP_NAMES: Record<keyof ReadConditions, string> = {
  ifMatch: 'If-Match',
  ifNoneMatch: 'If-None-Match',
  ifModifiedSince: 'If-Modified-Since',
  ifUnmodifiedSince: 'If-Unmodified-Since',
};

/** GetObject / HeadObject: 304 or 412 as AWS answers them. */
export function checkReadConditions(ctx: RequestContext, v: VersionRow): void {
  const f = evaluateConditions(readConditions(ctx), v.etag, v.lastModified);
  if (!f) return;
  if (f.kind === 'not-modified') {
    throw new S3Error('NotModified', undefined, {}, { etag: `"${v.etag}"`, 'last-modified': new Date(v.lastModified).toUTCString() });
  }
  throw new S3Error('PreconditionFailed', undefined, { Condition: HTTP_NAMES[f.which] });
}

/** Copy-source conditions: every failure is 412 naming the header in AWS's casing. */
export function checkCopySourceConditions(ctx: RequestContext, v: VersionRow): void {
  const f = evaluateConditions(readConditions(ctx, 'x-amz-copy-source-'), v.etag, v.lastModified);
  if (f) throw new S3Error('PreconditionFailed', undefined, { Condition: `x-amz-copy-source-${HTTP_NAMES[f.which]}` });
}

/** Conditional writes (PutObject, CopyObject, CompleteMultipartUpload): If-None-Match: * and If-Match: etag. */
export interface WriteConditions {
  ifNoneMatchStar: boolean;
  ifMatch?: string;
}

export function writeConditions(ctx: RequestContext): WriteConditions {
  const inm = h(ctx, 'if-none-match');
  const im = h(ctx, 'if-match');
  if (inm !== undefined && im !== undefined) {
    throw new S3Error('NotImplemented', undefined, { Header: 'If-Match,If-None-Match', additionalMessage: 'Multiple conditional request headers present in the request' });
  }
  if (inm !== undefined && inm.trim() !== '*') {
    throw new S3Error('NotImplemented', undefined, { Header: 'If-None-Match', additionalMessage: "We don't accept the provided value of If-None-Match header for this API" });
  }
  if (im !== undefined && im.trim() === '*') {
    throw new S3Error('NotImplemented', undefined, { Header: 'If-Match', additionalMessage: "We don't accept the provided value of If-Match header for this API" });
  }
  return { ifNoneMatchStar: inm !== undefined, ifMatch: im === undefined ? undefined : unquoteEtag(im) };
}

/** Runs inside the write's transaction against the key's current version. */
export function checkWriteConditions(c: WriteConditions, key: string, current: VersionRow | undefined): void {
  const live = current && !current.deleteMarker ? current : undefined;
  if (c.ifNoneMatchStar && live) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-None-Match' });
  if (c.ifMatch !== undefined) {
    if (!live) throw new S3Error('NoSuchKey', undefined, { Key: key });
    if (live.etag !== c.ifMatch) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  }
}
