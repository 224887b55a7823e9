import { S3Error } from '../../errors.js';
import { asArray, countElements, parseXml } from '../xml.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from '../../util/checksum.js';
import { MAX_PART_NUMBER } from './upload.js';
import { unquoteEtag } from '../object/meta.js';

/**
 * The `<CompleteMultipartUpload>` request body: at most {@link MAX_PARTS}
 * `<Part>` entries (`CompletedPart`), in strictly ascending part-number order.
 *
 * A legal body is small and regular, and the event loop must not spend on a
 * hostile one what it would on a whole tree: the body is bounded by size
 * while it streams in ({@link MAX_COMPLETE_BODY}), then read by a scanner
 * that knows the shapes the SDKs and CLIs write (an XML declaration,
 * `xmlns`, layout whitespace, `<Part>` with `PartNumber`, `ETag` and
 * `Checksum*` children, the XML built-in entities) and stops at the
 * 10,001st part. A body the scanner does not recognise (comments, CDATA, a
 * DOCTYPE, prefixes, other elements or entities, or one that is not
 * well-formed) is decided by the general parser, as every body was before:
 * both paths produce the same list of raw parts, and one function turns that
 * list into the answer, so they cannot disagree on what a body means.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 */

/** One `<Part>` of the request body (`CompletedPart`). */
export interface CompletedPart {
  PartNumber: number;
  /** Unquoted. */
  ETag: string;
  /** Checksum* fields the client gave for this part, by algorithm. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** An upload has at most 10,000 parts, so a Complete lists at most that many. */
export const MAX_PARTS = MAX_PART_NUMBER;

/**
 * The largest `<Part>` an SDK writes is about 180 bytes: the AWS SDK for
 * JavaScript's `<Part><ChecksumSHA256>` + 44 base64 characters +
 * `</ChecksumSHA256><ETag>&quot;` + 32 hex digits + `&quot;</ETag>` +
 * `<PartNumber>10000</PartNumber></Part>` is 177. 256 bytes a part leaves
 * room for indentation or a second checksum; 64 KiB more for the
 * declaration, the root and its namespace. 10,000 such parts: 2.5 MiB.
 * No client writes a longer body for a legal Complete; one is refused by
 * size (MaxMessageLengthExceeded, AWS's "Your request was too big.") as
 * soon as it is announced or read past, before anything is parsed.
 */
export const MAX_COMPLETE_BODY = MAX_PARTS * 256 + 64 * 1024;

/**
 * A Complete listing more parts than an upload can have is refused as
 * MalformedXML. No recording of AWS's answer exists; such a list can name no
 * upload's parts, so the body is invalid as a whole, and MalformedXML is
 * AWS's answer for a body that does not describe a valid request (as for an
 * empty part list), where naming one part (InvalidPart) would single out an
 * arbitrary one.
 */
function tooManyParts(): S3Error {
  return new S3Error('MalformedXML');
}

/** Each checksum algorithm and the `<Part>` child that carries it. */
const CHECKSUM_FIELDS = CHECKSUM_ALGORITHMS.map((a) => [a, `Checksum${a}`] as const);

/** A `<Part>`'s children as text, exactly as the general parser gives them ('' for an empty `<Part>`). */
type RawPart = Record<string, unknown> | string;

/** Parses the body; parts must be in strictly ascending order. */
export function parseCompleteBody(text: string, uploadId: string): CompletedPart[] {
  if (text.trim() === '') throw new S3Error('InvalidRequest', 'You must specify at least one part');
  return completedParts(scanCompleteBody(text) ?? parsedParts(text), uploadId);
}

/** The general path: a whole parse, after a count of `<Part` tags that keeps a huge list from being built. */
export function parsedParts(text: string): RawPart[] {
  // Counts tags in the raw text, comments and CDATA included: only a body with more than 10,000 of them
  // in such places would be refused that the parse might have accepted.
  if (countElements(text, 'Part', MAX_PARTS + 1) > MAX_PARTS) throw tooManyParts();
  const { root, value } = parseXml(text);
  if (root !== 'CompleteMultipartUpload' || typeof value !== 'object') throw new S3Error('MalformedXML');
  return asArray<RawPart>(value.Part);
}

/** The raw parts in the order given, checked and converted: MalformedXML first, then InvalidPartOrder. */
export function completedParts(raw: RawPart[], uploadId: string): CompletedPart[] {
  if (raw.length === 0) throw new S3Error('MalformedXML');
  const parts = raw.map((p: any): CompletedPart => {
    if (typeof p !== 'object' || p === null) throw new S3Error('MalformedXML');
    const n = String(p.PartNumber ?? '');
    if (!/^\d{1,9}$/.test(n) || typeof p.ETag !== 'string') throw new S3Error('MalformedXML');
    const checksums: CompletedPart['checksums'] = {};
    for (const [a, field] of CHECKSUM_FIELDS) {
      const v = p[field];
      if (typeof v === 'string' && v !== '') checksums[a] = v;
    }
    return { PartNumber: Number(n), ETag: unquoteEtag(p.ETag), checksums };
  });
  for (let i = 1; i < parts.length; i++) {
    if (parts[i].PartNumber <= parts[i - 1].PartNumber) throw new S3Error('InvalidPartOrder', undefined, { UploadId: uploadId });
  }
  return parts;
}

const ROOT = 'CompleteMultipartUpload';
const ROOT_CLOSE = `</${ROOT}>`;
const PART_OPEN = '<Part>';
const PART_CLOSE = '</Part>';
/** The children of a `<Part>` the scanner reads, each with its closing tag. */
const CHILDREN = new Map(['PartNumber', 'ETag', ...CHECKSUM_FIELDS.map(([, field]) => field)].map((n) => [n, `</${n}>`]));
/** An XML declaration as clients write it; the general parser takes these (and more) as it does. */
const DECLARATION = /^<\?xml version=(["'])1\.[01]\1(?: encoding=(["'])[A-Za-z][\w.-]*\2)?(?: standalone=(["'])(?:yes|no)\3)? ?\?>/;
/** A root with no attribute, or one default namespace. */
const ROOT_OPEN = /<CompleteMultipartUpload(?: xmlns="[^"<&]*")?>/y;
/** The entities the scanner decodes; it leaves a value with any other `&` to the general parser. */
const ENTITIES: Record<string, string> = { '&quot;': '"', '&#34;': '"', '&#x22;': '"', '&amp;': '&', '&lt;': '<', '&gt;': '>', '&apos;': "'" };
const ENTITY_OR_AMP = /&(?:quot|#34|#x22|amp|lt|gt|apos);|&/g;

/** Thrown inside the scanner: this body is for the general parser. */
const UNKNOWN = Symbol('unknown shape');

function isLayout(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/**
 * The scanner: the raw parts of a body in the shapes clients write, or
 * undefined for any other body (the general parser decides those). Throws
 * MalformedXML at the 10,001st part, having built at most 10,000.
 */
export function scanCompleteBody(text: string): RawPart[] | undefined {
  try {
    return new Scanner(text).body();
  } catch (e) {
    if (e === UNKNOWN) return undefined;
    throw e;
  }
}

class Scanner {
  private i = 0;
  constructor(private readonly text: string) {}

  body(): RawPart[] {
    const decl = DECLARATION.exec(this.text);
    if (decl) this.i = decl[0].length;
    this.layout();
    ROOT_OPEN.lastIndex = this.i;
    if (!ROOT_OPEN.test(this.text)) throw UNKNOWN;
    this.i = ROOT_OPEN.lastIndex;
    const parts: RawPart[] = [];
    for (;;) {
      this.layout();
      if (this.take(ROOT_CLOSE)) break;
      if (!this.take(PART_OPEN)) throw UNKNOWN;
      if (parts.length === MAX_PARTS) throw tooManyParts();
      parts.push(this.part());
    }
    this.layout();
    if (this.i !== this.text.length) throw UNKNOWN;
    return parts;
  }

  /** A `<Part>`'s content, after its opening tag: known children, each once, with text values. */
  private part(): RawPart {
    const fields: Record<string, string> = {};
    let any = false;
    for (;;) {
      this.layout();
      if (this.take(PART_CLOSE)) return any ? fields : '';
      if (this.text.charCodeAt(this.i) !== 0x3c) throw UNKNOWN;
      const gt = this.text.indexOf('>', this.i);
      if (gt < 0) throw UNKNOWN;
      const name = this.text.slice(this.i + 1, gt);
      const close = CHILDREN.get(name);
      if (close === undefined || name in fields) throw UNKNOWN;
      const end = this.text.indexOf('<', gt + 1);
      if (end < 0 || !this.text.startsWith(close, end)) throw UNKNOWN;
      fields[name] = this.value(gt + 1, end);
      any = true;
      this.i = end + close.length;
    }
  }

  /** A value of printable ASCII, tabs and newlines, with only the entities the scanner knows. */
  private value(from: number, to: number): string {
    let amp = false;
    for (let k = from; k < to; k++) {
      const c = this.text.charCodeAt(k);
      if (c === 0x26) amp = true;
      else if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || c > 0x7e) throw UNKNOWN;
    }
    const raw = this.text.slice(from, to);
    if (!amp) return raw;
    let unknown = false;
    const decoded = raw.replace(ENTITY_OR_AMP, (m) => {
      if (m === '&') unknown = true;
      return ENTITIES[m] ?? m;
    });
    // An `&` that starts no entity the scanner knows: not ours to decide.
    if (unknown) throw UNKNOWN;
    return decoded;
  }

  private layout(): void {
    while (this.i < this.text.length && isLayout(this.text.charCodeAt(this.i))) this.i++;
  }

  private take(s: string): boolean {
    if (!this.text.startsWith(s, this.i)) return false;
    this.i += s.length;
    return true;
  }
}
