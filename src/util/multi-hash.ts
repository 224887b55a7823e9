/**
 * Several digests of one byte stream in one pass: MD5 and any of the
 * flexible checksums, and CRC-64/NVME prefix checkpoints (crc-checkpoints.ts)
 * when asked for, which then also give the CRC64NVME digest (computed once).
 * Used on the event loop for small bodies and inside the hashing threads
 * (hash-worker.ts) for large ones, so both give identical results.
 */
import { createHash, type Hash } from 'node:crypto';
import { createChecksummer, type ChecksumAlgorithm, type Checksummer } from './checksum.js';
import { Crc64Checkpoints } from './crc-checkpoints.js';
import { createFastCrc64 } from './crc64nvme-wasm.js';

export type HashAlgorithm = 'MD5' | ChecksumAlgorithm;

/** Raw digests by algorithm, and checkpoints when they were asked for. */
export interface HashResult {
  digests: Partial<Record<HashAlgorithm, Buffer>>;
  checkpoints?: Buffer;
}

export class MultiHash {
  private readonly sums: Array<[HashAlgorithm, Hash | Checksummer | Crc64Checkpoints | ReturnType<typeof createFastCrc64>]> = [];
  private readonly checkpoints?: Crc64Checkpoints;

  constructor(algs: readonly HashAlgorithm[], checkpoints: boolean) {
    if (checkpoints) this.checkpoints = new Crc64Checkpoints();
    for (const a of new Set(algs)) {
      if (a === 'CRC64NVME' && this.checkpoints) this.sums.push([a, this.checkpoints]);
      else this.sums.push([a, a === 'MD5' ? createHash('md5') : a === 'CRC64NVME' ? createFastCrc64() : createChecksummer(a)]);
    }
    if (this.checkpoints && !algs.includes('CRC64NVME')) this.sums.push(['CRC64NVME', this.checkpoints]);
  }

  update(b: Buffer): void {
    for (const [, s] of this.sums) s.update(b);
  }

  /** The digests (and checkpoints); call once. */
  finish(): HashResult {
    const digests: HashResult['digests'] = {};
    for (const [a, s] of this.sums) digests[a] = s.digest();
    return { digests, checkpoints: this.checkpoints?.finish() };
  }
}
