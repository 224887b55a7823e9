/**
 * CRC-64/NVME prefix checkpoints of a blob: what lets a copy know the
 * CRC64NVME (S3's default checksum) of any byte range of a stored blob
 * without reading it, or reading at most two granules of it.
 *
 * On-disk format (the blob row's `crc64nvme` column), version 1:
 *
 *   byte 0        log2 of the granule G in bytes (20: 1 MiB); a different
 *                 value is a format this code does not know (ignored)
 *   bytes 1..     for k = 1 .. ceil(size / G): the finalised CRC-64/NVME of
 *                 the blob's first min(k * G, size) bytes, 8 bytes big-endian
 *
 * So the last entry is the CRC of the whole blob, and a 5 GiB blob costs
 * 40 KiB of metadata. The CRC of the empty prefix is 0 and is not stored.
 *
 * Deriving a range: CRC-64/NVME has init == xorout (all ones), so for
 * finalised values crc(A||B) = shift(crc(A), len B) xor crc(B), where shift
 * multiplies by x^(8 * len B) mod P (crc-combine.ts). Hence for checkpointed
 * offsets a < b:  crc(blob[a, b)) = crc(P_b) xor shift(crc(P_a), b - a).
 * A range [start, end) uses the nearest checkpointed offsets inside it
 * (a >= start, b <= end; the blob's end counts as one) and combines the
 * middle with the CRCs of the unaligned head [start, a) and tail [b, end),
 * each shorter than one granule, which the caller reads.
 */
import { combineCrc } from './checksum.js';
import { createFastCrc64 } from './crc64nvme-wasm.js';

/** log2 of the checkpoint granule. */
export const CHECKPOINT_SHIFT = 20;
const G = 1 << CHECKPOINT_SHIFT;
const ZERO = Buffer.alloc(8);

/** Streams a blob's bytes and records the CRC of every G-aligned prefix. */
export class Crc64Checkpoints {
  private readonly crc = createFastCrc64();
  private readonly out: Buffer[] = [Buffer.from([CHECKPOINT_SHIFT])];
  private pos = 0;

  update(buf: Uint8Array): void {
    let at = 0;
    while (at < buf.length) {
      const take = Math.min(G - (this.pos % G), buf.length - at);
      this.crc.update(at === 0 && take === buf.length ? buf : buf.subarray(at, at + take));
      at += take;
      this.pos += take;
      if (this.pos % G === 0) this.out.push(this.crc.digest());
    }
  }

  /** The CRC-64/NVME of everything fed so far (8 bytes, big-endian). */
  digest(): Buffer {
    return this.crc.digest();
  }

  /** The checkpoints in the stored format (call once, at the end). */
  finish(): Buffer {
    if (this.pos % G !== 0) this.out.push(this.crc.digest());
    return Buffer.concat(this.out);
  }
}

/** Whether `cp` is version-1 checkpoints of a blob of `size` bytes. */
export function validCheckpoints(cp: Buffer | undefined, size: number): cp is Buffer {
  return cp !== undefined && cp.length === 1 + 8 * Math.ceil(size / G) && cp[0] === CHECKPOINT_SHIFT;
}

/** The whole blob's CRC-64/NVME from its checkpoints. */
export function wholeCrc(cp: Buffer, size: number): Buffer {
  return size === 0 ? ZERO : cp.subarray(cp.length - 8);
}

/** The stored prefix CRC at a checkpointed offset (0, a multiple of G, or the size). */
function prefixCrc(cp: Buffer, size: number, off: number): Buffer {
  if (off === 0) return ZERO;
  const k = off === size ? Math.ceil(size / G) : off / G;
  return cp.subarray(1 + 8 * (k - 1), 1 + 8 * k);
}

/** How to get the CRC of [start, end): read `head` and `tail` (byte ranges, maybe empty), derive the middle. */
export interface RangePlan {
  head: [number, number];
  /** The checkpointed middle [a, b); undefined when the whole range must be read (as `head`). */
  mid?: [number, number];
  tail: [number, number];
}

/** Plans the CRC of bytes [start, end) of a blob of `size` bytes that has checkpoints. */
export function planRange(size: number, start: number, end: number): RangePlan {
  const a = start === 0 ? 0 : Math.min(Math.ceil(start / G) * G, size);
  const b = end === size ? size : Math.floor(end / G) * G;
  if (a >= b) return { head: [start, end], tail: [end, end] };
  return { head: [start, a], mid: [a, b], tail: [b, end] };
}

/**
 * The CRC-64/NVME of bytes [start, end) from checkpoints and the CRCs of the
 * plan's head and tail (`headCrc`, `tailCrc`: 8 bytes each; the CRC of an
 * empty range is 8 zero bytes).
 */
export function rangeCrc(cp: Buffer, size: number, plan: RangePlan, headCrc: Buffer, tailCrc: Buffer): Buffer {
  if (!plan.mid) return headCrc;
  const [a, b] = plan.mid;
  const shifted = combineCrc('CRC64NVME', prefixCrc(cp, size, a), ZERO, b - a);
  const mid = xor8(prefixCrc(cp, size, b), shifted);
  const withHead = combineCrc('CRC64NVME', headCrc, mid, b - a);
  return combineCrc('CRC64NVME', withHead, tailCrc, plan.tail[1] - plan.tail[0]);
}

function xor8(x: Buffer, y: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8);
  for (let i = 0; i < 8; i++) out[i] = x[i]! ^ y[i]!;
  return out;
}
