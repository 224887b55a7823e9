/**
 * Key-order helpers shared by the stores and the listing code. S3 orders keys
 * by their UTF-8 bytes, which is the order of their Unicode code points.
 * And the one maker of bucket ids, for both stores.
 */
import { randomBytes } from 'node:crypto';

/** A new bucket's identity (BucketRow.id): 96 random bits, never reused. */
export function newBucketId(): string {
  return randomBytes(12).toString('hex');
}

/**
 * The least string greater than every string that starts with `prefix`
 * (its last code point incremented), or undefined when none exists. Listing
 * uses it both to bound a prefix scan and to jump past a CommonPrefix.
 */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    let cp = cps.pop()!.codePointAt(0)! + 1;
    if (cp === 0xd800) cp = 0xe000; // skip the surrogate range
    if (cp <= 0x10ffff) return cps.join('') + String.fromCodePoint(cp);
  }
  return undefined;
}
