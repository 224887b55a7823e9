/**
 * The canonical request of SigV4, built from the request exactly as it came
 * over the wire.
 *
 * S3 signs the path as the client encoded it, once: it does not double-encode
 * and does not remove `.`/`..`/empty segments (a key may be `a//b` or `../x`).
 * Clients do not all encode the same characters, so the server decodes each
 * `%XX` and re-encodes every byte outside the RFC 3986 unreserved set
 * (`A-Z a-z 0-9 - . _ ~`) as `%XX` with upper-case hex, segment by segment:
 * `/a+b` and `/a%2Bb` have the same canonical URI, and so do `%7e` and `~`.
 * A `%` that does not start a valid escape is a literal `%` (`%25`).
 *
 * The query string is split on `&`, each name and value decoded (`+` is a
 * space, as S3 reads query strings) and re-encoded the same way, and the pairs
 * sorted by name, then by value. A parameter without `=` has an empty value.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */

const HEX = '0123456789ABCDEF';
/** 1 for the bytes RFC 3986 calls unreserved. */
const UNRESERVED_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') {
  UNRESERVED_BYTE[c.charCodeAt(0)] = 1;
}
const ALL_UNRESERVED = /^[A-Za-z0-9\-._~]*$/;

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * The bytes a URI component stands for: `%XX` escapes decoded, every other
 * character as its UTF-8 bytes, and `+` as a space when `plusIsSpace`.
 */
export function percentDecode(component: string, plusIsSpace: boolean): Buffer {
  const out: number[] = [];
  for (let i = 0; i < component.length; i++) {
    const code = component.charCodeAt(i);
    if (code === 37 /* % */ && i + 2 < component.length) {
      const hi = hexValue(component.charCodeAt(i + 1));
      const lo = hexValue(component.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out.push(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    if (code === 43 /* + */ && plusIsSpace) out.push(32);
    else if (code < 0x80) out.push(code);
    else {
      // One code point (a surrogate pair counts once) as UTF-8.
      const cp = component.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
    }
  }
  return Buffer.from(out);
}

/** Percent-encodes every byte outside the unreserved set. */
export function uriEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    out += UNRESERVED_BYTE[b] ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** Decodes and re-encodes one path segment or query component. */
export function canonicalComponent(component: string, plusIsSpace: boolean): string {
  if (ALL_UNRESERVED.test(component)) return component;
  return uriEncodeBytes(percentDecode(component, plusIsSpace));
}

/**
 * The canonical URI of a raw request path. `normalize` applies the generic
 * SigV4 rule of the other AWS services (drop empty and `.` segments, resolve
 * `..`), which S3 does not use; it exists for the AWS test-suite vectors.
 */
export function canonicalUri(rawPath: string, normalize = false): string {
  if (rawPath === '') return '/';
  let segments = rawPath.split('/');
  if (normalize) {
    const kept: string[] = [];
    for (const s of segments) {
      if (s === '' || s === '.') continue;
      if (s === '..') kept.pop();
      else kept.push(s);
    }
    const trailing = kept.length > 0 && rawPath.endsWith('/');
    segments = ['', ...kept, ...(trailing ? [''] : [])];
    if (kept.length === 0) return '/';
  }
  return segments.map((s) => canonicalComponent(s, false)).join('/');
}

export interface QueryParam {
  /** The decoded name, as text (for lookups such as X-Amz-Signature). */
  name: string;
  /** The decoded value, as text. */
  value: string;
  /** The canonical (re-encoded) name and value. */
  encodedName: string;
  encodedValue: string;
}

/** Splits a raw query string into decoded and canonically encoded pairs. */
export function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (rawQuery === '') return params;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawName = eq < 0 ? piece : piece.slice(0, eq);
    const rawValue = eq < 0 ? '' : piece.slice(eq + 1);
    const nameBytes = percentDecode(rawName, true);
    const valueBytes = percentDecode(rawValue, true);
    params.push({
      name: nameBytes.toString('utf8'),
      value: valueBytes.toString('utf8'),
      encodedName: ALL_UNRESERVED.test(rawName) ? rawName : uriEncodeBytes(nameBytes),
      encodedValue: ALL_UNRESERVED.test(rawValue) ? rawValue : uriEncodeBytes(valueBytes),
    });
  }
  return params;
}

/** The canonical query string of the parameters, less those `skip` names. */
export function canonicalQuery(params: readonly QueryParam[], skip?: (p: QueryParam) => boolean): string {
  const kept = skip ? params.filter((p) => !skip(p)) : params.slice();
  kept.sort((a, b) => compare(a.encodedName, b.encodedName) || compare(a.encodedValue, b.encodedValue));
  return kept.map((p) => `${p.encodedName}=${p.encodedValue}`).join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A header value as SigV4 signs it: trimmed, inner runs of blanks as one space. */
export function canonicalHeaderValue(value: string): string {
  // Trimming first gives the same result (collapsing only turns blanks into a blank), and most values need nothing more.
  const trimmed = value.trim();
  return COLLAPSIBLE.test(trimmed) ? trimmed.replace(/[ \t\r\n]+/g, ' ') : trimmed;
}

/** What collapsing would change in a trimmed value: a tab, CR or LF, or two blanks in a row. */
const COLLAPSIBLE = /[\t\r\n]| {2}/;

/**
 * The values of the signed headers, in the order given. With `rawHeaders`
 * (node's flat [name, value, ...] list) repeated headers are joined with `,` as
 * SigV4 says; node's `headers` object has already joined most of them with
 * `, `, which only differs for a header sent twice. A signed header the request
 * lacks gets an empty value, so the signature fails to match, as on AWS.
 */
export function canonicalHeaders(
  names: readonly string[],
  headers: Record<string, string | string[] | undefined>,
  rawHeaders?: readonly string[],
): string {
  let fromRaw: Map<string, string[]> | undefined;
  if (rawHeaders) {
    // Only the signed names are collected: the others (user-agent, authorization, ...) are never canonicalized.
    fromRaw = new Map(names.map((n) => [n, []]));
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const list = fromRaw.get(rawHeaders[i]!.toLowerCase());
      if (list) list.push(canonicalHeaderValue(rawHeaders[i + 1]!));
    }
  }
  let out = '';
  for (const name of names) {
    let value: string;
    if (fromRaw) value = (fromRaw.get(name) ?? []).join(',');
    else {
      const v = headers[name];
      value = v === undefined ? '' : Array.isArray(v) ? v.map(canonicalHeaderValue).join(',') : canonicalHeaderValue(v);
    }
    out += `${name}:${value}\n`;
  }
  return out;
}

export function canonicalRequest(
  method: string,
  uri: string,
  query: string,
  headerBlock: string,
  signedHeaders: string,
  payloadHash: string,
): string {
  return `${method}\n${uri}\n${query}\n${headerBlock}\n${signedHeaders}\n${payloadHash}`;
}
