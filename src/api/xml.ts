import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from '../errors.js';

/**
 * XML in and out. Output is built from plain values: an object becomes child
 * elements in key order, an array repeats its element, undefined is omitted.
 * Input is parsed with entity expansion limited to the XML built-ins, and a
 * body that does not parse is MalformedXML.
 */
export type XmlValue = string | number | boolean | undefined | null | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"'\r]/g, (c) => ESC[c]);
}

export function element(name: string, v: XmlValue, out: string[]): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) {
    for (const item of v) element(name, item, out);
    return;
  }
  if (typeof v === 'object') {
    out.push(`<${name}>`);
    for (const [k, child] of Object.entries(v)) element(k, child, out);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${escapeXml(String(v))}</${name}>`);
}

/** A whole document: `<?xml ...?><Root xmlns="...">...</Root>`. */
export function xmlDocument(root: string, body: XmlObject, ns: string | null = S3_NS): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n', ns ? `<${root} xmlns="${ns}">` : `<${root}>`];
  for (const [k, v] of Object.entries(body)) element(k, v, out);
  out.push(`</${root}>`);
  return out.join('');
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  // Values are kept as sent: S3 keys and tag values may begin or end with spaces.
  trimValues: false,
  processEntities: true,
  // Numeric character references are XML too: Go's encoding/xml (rclone, aws-sdk-go) writes the
  // quotes of a CompleteMultipartUpload ETag as &#34;. An object (typed as boolean) decodes them
  // while keeping named entities to the five XML built-ins; `true` would add HTML's names.
  htmlEntities: {} as unknown as boolean,
  ignoreDeclaration: true,
  removeNSPrefix: true,
});

/** Drops the whitespace between child elements that an untrimmed parse keeps as `#text`. */
function dropLayout(v: any): any {
  if (Array.isArray(v)) return v.map(dropLayout);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, any> = {};
  for (const [k, child] of Object.entries(v)) {
    if (k === '#text' && typeof child === 'string' && child.trim() === '') continue;
    out[k] = dropLayout(child);
  }
  return out;
}

/** Parses an XML body; returns the root element's name and content. */
export function parseXml(text: string): { root: string; value: any } {
  if (text.trim() === '' || XMLValidator.validate(text) !== true) throw new S3Error('MalformedXML');
  let doc: Record<string, any>;
  try {
    doc = parser.parse(text);
  } catch {
    throw new S3Error('MalformedXML');
  }
  const roots = Object.keys(doc);
  if (roots.length !== 1) throw new S3Error('MalformedXML');
  return { root: roots[0], value: dropLayout(doc[roots[0]] ?? '') };
}

/**
 * How many start tags named `name` (with any namespace prefix) the raw text
 * holds, counting no further than `stopAt`: a cheap bound on a list before a
 * parse would build all of it. Tags inside comments or CDATA count too.
 */
export function countElements(text: string, name: string, stopAt: number): number {
  const tag = new RegExp(`<(?:[^\\s<>/!?:]+:)?${name}[\\s/>]`, 'g');
  let n = 0;
  while (n < stopAt && tag.exec(text)) n++;
  return n;
}

/** A child that may appear once or many times, as an array. */
export function asArray<T>(v: T | T[] | undefined): T[] {
  if (v === undefined || v === null || (v as unknown) === '') return [];
  return Array.isArray(v) ? v : [v];
}
