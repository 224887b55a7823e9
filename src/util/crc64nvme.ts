/// <reference types="node" />
/**
 * CRC-64/NVME in pure TypeScript: the 64-bit CRC S3 uses for
 * `x-amz-checksum-crc64nvme` (and its default full-object checksum).
 *
 * Parameters (the "CRC-64/NVME" entry of the CRC catalogue): reflected
 * polynomial 0x9A6C9329AC4BC9B5, initial value and final xor both all-ones,
 * input and output reflected. Check value: crc64nvme("123456789") is
 * 0xAE8B14860A799888.
 *
 * JavaScript has no fast 64-bit integer, and BigInt per byte is two orders of
 * magnitude too slow, so the 64-bit register is held as two 32-bit halves
 * (`hi`, `lo`) and every table is split the same way: `TL` holds the low
 * words, `TH` the high words. As for CRC-32C we use slicing-by-8: table k (at
 * offset k * 256) gives the contribution of a byte followed by k zero bytes.
 * Because the register is exactly 8 bytes wide, xoring 8 input bytes into it
 * consumes the whole register, and the next value is just the xor of 8
 * lookups, with no shifted remainder.
 *
 * The digest is the finalised register as 8 big-endian bytes, which is what
 * S3 base64-encodes in the header.
 */

/** High and low 32-bit words of the reflected polynomial. */
const POLY_HI = 0x9a6c9329;
const POLY_LO = 0xac4bc9b5;

/** Typed-array word reads are native-endian; the word loop assumes little-endian. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const TL = new Uint32Array(8 * 256);
const TH = new Uint32Array(8 * 256);
buildTables();

function buildTables(): void {
  for (let n = 0; n < 256; n++) {
    let lo = n;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const odd = lo & 1;
      lo = (lo >>> 1) | ((hi & 1) << 31);
      hi = hi >>> 1;
      if (odd) {
        lo ^= POLY_LO;
        hi ^= POLY_HI;
      }
    }
    TL[n] = lo >>> 0;
    TH[n] = hi >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let lo = TL[n]!;
    let hi = TH[n]!;
    for (let k = 1; k < 8; k++) {
      const idx = lo & 0xff;
      lo = TL[idx]! ^ ((lo >>> 8) | (hi << 24));
      hi = TH[idx]! ^ (hi >>> 8);
      TL[k * 256 + n] = lo >>> 0;
      TH[k * 256 + n] = hi >>> 0;
    }
  }
}

/**
 * A streaming CRC-64/NVME. `update` may be called with any chunking; `digest`
 * does not reset the state and may be called more than once.
 */
export class Crc64Nvme {
  /** Unfinalised register, high word. */
  private hi = 0xffffffff;
  /** Unfinalised register, low word. */
  private lo = 0xffffffff;

  /**
   * Feeds `buf`. Bytes go one at a time until the position is 4-byte aligned
   * in the underlying ArrayBuffer; the bulk is then read through a
   * Uint32Array view, 8 bytes per iteration.
   */
  update(buf: Uint8Array): void {
    const tl = TL;
    const th = TH;
    let lo = this.lo;
    let hi = this.hi;
    let i = 0;
    const len = buf.length;
    if (LITTLE_ENDIAN && len >= 64) {
      while ((buf.byteOffset + i) & 3) {
        const idx = (lo ^ buf[i++]!) & 0xff;
        lo = tl[idx]! ^ ((lo >>> 8) | (hi << 24));
        hi = th[idx]! ^ (hi >>> 8);
      }
      const nw = ((len - i) >>> 3) << 1;
      const w = new Uint32Array(buf.buffer, buf.byteOffset + i, nw);
      for (let j = 0; j < nw; j += 2) {
        const a = lo ^ w[j]!;
        const b = hi ^ w[j + 1]!;
        const i0 = 1792 + (a & 0xff);
        const i1 = 1536 + ((a >>> 8) & 0xff);
        const i2 = 1280 + ((a >>> 16) & 0xff);
        const i3 = 1024 + (a >>> 24);
        const i4 = 768 + (b & 0xff);
        const i5 = 512 + ((b >>> 8) & 0xff);
        const i6 = 256 + ((b >>> 16) & 0xff);
        const i7 = b >>> 24;
        lo = tl[i0]! ^ tl[i1]! ^ tl[i2]! ^ tl[i3]! ^ tl[i4]! ^ tl[i5]! ^ tl[i6]! ^ tl[i7]!;
        hi = th[i0]! ^ th[i1]! ^ th[i2]! ^ th[i3]! ^ th[i4]! ^ th[i5]! ^ th[i6]! ^ th[i7]!;
      }
      i += nw << 2;
    }
    while (i < len) {
      const idx = (lo ^ buf[i++]!) & 0xff;
      lo = tl[idx]! ^ ((lo >>> 8) | (hi << 24));
      hi = th[idx]! ^ (hi >>> 8);
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** The finalised CRC as 8 big-endian bytes. */
  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE((this.hi ^ 0xffffffff) >>> 0, 0);
    out.writeUInt32BE((this.lo ^ 0xffffffff) >>> 0, 4);
    return out;
  }
}

/** CRC-64/NVME of `buf` as 8 big-endian bytes. */
export function crc64nvme(buf: Uint8Array): Buffer {
  const c = new Crc64Nvme();
  c.update(buf);
  return c.digest();
}
