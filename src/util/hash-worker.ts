/**
 * A hashing worker thread of the HashPool (hash-pool.ts). It keeps the
 * digests of any number of jobs, each identified by the pool, and answers
 * every message in the order it came:
 *
 * - `open`  {id, algs, checkpoints}: a streaming job over the named algorithms
 *   (MD5 and the flexible checksums), with CRC-64/NVME prefix checkpoints
 *   (crc-checkpoints.ts) when asked;
 * - `data`  {id, buf, len}: the next `len` bytes of that job, in a transferred
 *   ArrayBuffer or a SharedArrayBuffer the main thread no longer writes;
 *   answered `{id, ack}` once hashed, which is the pool's back-pressure;
 * - `end`   {id}: answered `{id, digests, checkpoints}`;
 * - `drop`  {id}: forgets the job;
 * - `file`  {id, segments, algs}: reads the byte ranges of files itself (no
 *   byte passes through the main thread) and answers their digests, or
 *   `{id, error, code}` (ENOENT when a blob file was collected meanwhile).
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { createChecksummer, type ChecksumAlgorithm, type Checksummer } from './checksum.js';
import { Crc64Checkpoints } from './crc-checkpoints.js';

type Alg = 'MD5' | ChecksumAlgorithm;

interface Job {
  sums: Array<[Alg, Hash | Checksummer | Crc64Checkpoints]>;
  checkpoints?: Crc64Checkpoints;
}

export interface FileSegment {
  path: string;
  start: number;
  end: number;
}

const READ_SIZE = 1 << 20;
const jobs = new Map<number, Job>();
let readBuf: Buffer | undefined;

function newJob(algs: Alg[], checkpoints: boolean): Job {
  const job: Job = { sums: [] };
  if (checkpoints) job.checkpoints = new Crc64Checkpoints();
  for (const a of algs) {
    if (a === 'CRC64NVME' && job.checkpoints) job.sums.push([a, job.checkpoints]);
    else job.sums.push([a, a === 'MD5' ? createHash('md5') : createChecksummer(a)]);
  }
  if (job.checkpoints && !algs.includes('CRC64NVME')) job.sums.push(['CRC64NVME', job.checkpoints]);
  return job;
}

function feed(job: Job, b: Buffer): void {
  for (const [, s] of job.sums) s.update(b);
}

function finish(job: Job): { digests: Partial<Record<Alg, Uint8Array>>; checkpoints?: Uint8Array } {
  const digests: Partial<Record<Alg, Uint8Array>> = {};
  for (const [a, s] of job.sums) digests[a] = s.digest();
  return { digests, checkpoints: job.checkpoints?.finish() };
}

function hashFiles(segments: FileSegment[], algs: Alg[]): ReturnType<typeof finish> {
  const job = newJob(algs, false);
  readBuf ??= Buffer.allocUnsafeSlow(READ_SIZE);
  for (const s of segments) {
    const fd = openSync(s.path, 'r');
    try {
      for (let pos = s.start; pos < s.end;) {
        const n = readSync(fd, readBuf, 0, Math.min(READ_SIZE, s.end - pos), pos);
        if (n === 0) throw Object.assign(new Error(`${s.path} is shorter than ${s.end} bytes`), { code: 'ESHORT' });
        feed(job, readBuf.subarray(0, n));
        pos += n;
      }
    } finally {
      closeSync(fd);
    }
  }
  return finish(job);
}

type Message =
  | { op: 'open'; id: number; algs: Alg[]; checkpoints: boolean }
  | { op: 'data'; id: number; buf: ArrayBufferLike; len: number }
  | { op: 'end' | 'drop'; id: number }
  | { op: 'file'; id: number; segments: FileSegment[]; algs: Alg[] };

function handle(m: Message): void {
  switch (m.op) {
    case 'open':
      jobs.set(m.id, newJob(m.algs, m.checkpoints));
      return;
    case 'data': {
      const job = jobs.get(m.id);
      if (job) feed(job, Buffer.from(m.buf, 0, m.len));
      parentPort!.postMessage({ id: m.id, ack: true });
      return;
    }
    case 'end': {
      const job = jobs.get(m.id);
      jobs.delete(m.id);
      if (!job) throw new Error(`hash job ${m.id} is unknown`);
      const r = finish(job);
      parentPort!.postMessage({ id: m.id, ...r });
      return;
    }
    case 'drop':
      jobs.delete(m.id);
      return;
    case 'file':
      parentPort!.postMessage({ id: m.id, ...hashFiles(m.segments, m.algs) });
      return;
  }
}

parentPort!.on('message', (m: Message) => {
  try {
    handle(m);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    parentPort!.postMessage({ id: m.id, error: err.message ?? String(e), code: err.code });
  }
});
parentPort!.postMessage({ ready: true });
