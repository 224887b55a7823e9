import { S3Error } from '../../errors.js';

/** A satisfiable byte range [start, end) of an object. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The Range header of GetObject (RFC 9110 §14.1.2, one range only). A header
 * that does not parse is ignored as AWS ignores it (the whole object is
 * returned); a range that parses but lies beyond the object is 416
 * InvalidRange.
 */
export function parseGetRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes=(\d*)-(\d*)\s*$/.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw invalidRange(header, size);
    return size === 0 ? undefined : { start: Math.max(0, size - n), end: size };
  }
  const first = Number(m[1]);
  const last = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < first) return undefined;
  if (first >= size) throw invalidRange(header, size);
  return { start: first, end: last + 1 };
}

function invalidRange(header: string, size: number): S3Error {
  return new S3Error('InvalidRange', undefined, { RangeRequested: header, ActualObjectSize: size });
}

/** `x-amz-copy-source-range` syntax: exactly `bytes=first-last`, both given, first <= last. */
export function parseCopyRange(header: string): { first: number; last: number } | undefined {
  const m = /^bytes=(\d+)-(\d+)$/.exec(header);
  if (!m) return undefined;
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first > last) return undefined;
  return { first, last };
}
