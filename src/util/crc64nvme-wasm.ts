/**
 * CRC-64/NVME on WebAssembly: the same slicing-by-8 as crc64nvme.ts, but on
 * native 64-bit integers, which JavaScript lacks (the TypeScript version
 * splits the register and every table in two 32-bit halves, so it does twice
 * the lookups). It is the hot loop of every large upload: each blob file's
 * CRC-64/NVME checkpoints are computed as it arrives (crc-checkpoints.ts).
 *
 * The module is assembled here, byte by byte, rather than shipped as a
 * binary: it is one function, and its source is the listing below. Memory
 * layout: eight 256-entry tables of little-endian u64 at 0 (table k, at
 * k * 2048, is the contribution of a byte followed by k zero bytes, as in
 * crc64nvme.ts), then a 1 MiB window at 16384 where input is copied.
 *
 *   update(crc: i64, ptr: i32, len: i32) -> i64      (crc: unfinalised register)
 *     while len >= 8:
 *       crc ^= load64_le(ptr)
 *       crc = T7[crc & 0xff] ^ T6[(crc >> 8) & 0xff] ^ ... ^ T0[crc >> 56]
 *       ptr += 8; len -= 8
 *     while len > 0:
 *       crc = T0[(crc ^ load8(ptr)) & 0xff] ^ (crc >> 8); ptr++; len--
 *     return crc
 *
 * Checked against the TypeScript implementation and the CRC catalogue's check
 * value (test/unit/hash-pool.test.ts); `createFastCrc64` falls back to the
 * TypeScript one where WebAssembly is unavailable.
 */
import { Crc64Nvme } from './crc64nvme.js';

const TABLES = 16384;
const WINDOW = 1 << 20;
const POLY = 0x9a6c9329ac4bc9b5n;
const MASK = 0xffffffffffffffffn;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 of a small non-negative number. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if (n === 0 && (b & 0x40) === 0) return [...out, b];
    out.push(b | 0x80);
  }
}

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];

/** `T<table>[byte]` pushed as an i64, where byte is bits [shift, shift + 8) of the i32 in local `half`. */
function lookup(table: number, half: number, shift: number): number[] {
  // (half << 3) or (half >>> (shift - 3)), then & 0x7f8: the byte's offset in a table of u64.
  const offset = shift === 0 ? [0x20, half, 0x41, 3, 0x74] : [0x20, half, 0x41, ...sleb(shift - 3), 0x76];
  return [...offset, 0x41, ...sleb(0x7f8), 0x71, 0x29, 3, ...uleb(table * 2048)];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const words: number[] = [];
  for (let k = 0; k < 8; k++) {
    words.push(...lookup(7 - k, k < 4 ? 3 : 4, 8 * (k % 4)));
    if (k > 0) words.push(0x85); // i64.xor
  }
  const body = [
    1, 2, 0x7f, // locals 3 and 4: the register's low and high halves, as i32
    // block; loop; br_if (len < 8) out
    0x02, 0x40, 0x03, 0x40, 0x20, 2, 0x41, 8, 0x49, 0x0d, 1,
    // crc ^= i64.load(ptr); lo = wrap(crc); hi = wrap(crc >> 32)
    0x20, 0, 0x20, 1, 0x29, 0, 0, 0x85, 0x22, 0, 0xa7, 0x21, 3, 0x20, 0, 0x42, 32, 0x88, 0xa7, 0x21, 4,
    ...words, 0x21, 0,
    // ptr += 8; len -= 8; continue
    0x20, 1, 0x41, 8, 0x6a, 0x21, 1, 0x20, 2, 0x41, 8, 0x6b, 0x21, 2, 0x0c, 0, 0x0b, 0x0b,
    // block; loop; br_if (len == 0) out
    0x02, 0x40, 0x03, 0x40, 0x20, 2, 0x45, 0x0d, 1,
    // T0[(crc ^ i64.load8_u(ptr)) & 0xff] ^ (crc >> 8)
    0x20, 0, 0x20, 1, 0x31, 0, 0, 0x85, 0xa7, 0x41, ...sleb(255), 0x71, 0x41, 3, 0x74, 0x29, 3, 0,
    0x20, 0, 0x42, 8, 0x88, 0x85, 0x21, 0,
    // ptr++; len--; continue
    0x20, 1, 0x41, 1, 0x6a, 0x21, 1, 0x20, 2, 0x41, 1, 0x6b, 0x21, 2, 0x0c, 0, 0x0b, 0x0b,
    0x20, 0, 0x0b,
  ];
  const pages = Math.ceil((TABLES + WINDOW) / 65536);
  const exp = (name: string, kind: number) => [...uleb(name.length), ...Buffer.from(name), kind, 0];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 3, 0x7e, 0x7f, 0x7f, 1, 0x7e]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, ...uleb(pages)]),
    ...section(7, [2, ...exp('mem', 2), ...exp('update', 0)]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** Fills the slicing-by-8 tables into `mem`. */
function fillTables(mem: DataView): void {
  const t0: bigint[] = [];
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ POLY : c >> 1n;
    t0.push(c);
  }
  for (let n = 0; n < 256; n++) {
    let c = t0[n];
    for (let k = 0; k < 8; k++) {
      mem.setBigUint64(k * 2048 + n * 8, c, true);
      c = t0[Number(c & 0xffn)] ^ (c >> 8n);
    }
  }
}

interface Kernel {
  bytes: Uint8Array;
  update: (crc: bigint, ptr: number, len: number) => bigint;
}

let kernel: Kernel | null | undefined;

/** The compiled kernel, once per thread; null where WebAssembly cannot run. */
function loadKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()));
    const memory = instance.exports.mem as WebAssembly.Memory;
    fillTables(new DataView(memory.buffer));
    kernel = { bytes: new Uint8Array(memory.buffer), update: instance.exports.update as Kernel['update'] };
  } catch {
    kernel = null;
  }
  return kernel;
}

/** A streaming CRC-64/NVME on the WebAssembly kernel, with Crc64Nvme's interface. */
export class WasmCrc64Nvme {
  private reg = MASK;

  constructor(private readonly k: Kernel) {}

  update(buf: Uint8Array): void {
    for (let at = 0; at < buf.length; at += WINDOW) {
      const piece = buf.subarray(at, Math.min(buf.length, at + WINDOW));
      this.k.bytes.set(piece, TABLES);
      this.reg = this.k.update(this.reg, TABLES, piece.length);
    }
  }

  /** The finalised CRC as 8 big-endian bytes. */
  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeBigUInt64BE((this.reg ^ MASK) & MASK, 0);
    return out;
  }
}

/** The fastest CRC-64/NVME this thread has: WebAssembly, else the TypeScript one. */
export function createFastCrc64(): WasmCrc64Nvme | Crc64Nvme {
  const k = loadKernel();
  return k ? new WasmCrc64Nvme(k) : new Crc64Nvme();
}
