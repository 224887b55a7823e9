/**
 * A hashing worker thread of the HashPool (hash-pool.ts). Every byte it
 * hashes it reads itself from a blob file (no byte passes through the main
 * thread); it handles messages in the order they come:
 *
 * - `follow` {id, path, algs, checkpoints}: a job over a blob file being
 *   written, for the named algorithms (MD5 and the flexible checksums) and,
 *   when asked, CRC-64/NVME prefix checkpoints (crc-checkpoints.ts);
 * - `grow`   {id, upTo}: the file now holds `upTo` bytes: hash up to there
 *   and answer `{id, hashed}` (the pool's back-pressure);
 * - `end`    {id, size}: hash up to `size` and answer `{id, digests, checkpoints}`;
 * - `drop`   {id}: forget the job;
 * - `file`   {id, segments, algs, spans}: the digests of byte ranges of
 *   files and the CRC-64/NVME of each span, in one pass (only the spans are
 *   read when no algorithm is asked).
 *
 * A failure answers `{id, error, code}` (ENOENT when a blob file was
 * collected meanwhile).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { createFastCrc64 } from './crc64nvme-wasm.js';
import { MultiHash, type HashAlgorithm as Alg } from './multi-hash.js';

export interface FileSegment {
  path: string;
  start: number;
  end: number;
}

/** Bytes [start, end) of segment `segment`'s file (file offsets) whose CRC-64/NVME is wanted on its own. */
export interface FileSpan {
  segment: number;
  start: number;
  end: number;
}

const READ_SIZE = 1 << 20;
let readBuf: Buffer | undefined;

/** Calls `fn` with the bytes [start, end) of a file, in reads of READ_SIZE. */
function readRange(path: string, start: number, end: number, fn: (b: Buffer, pos: number) => void): void {
  readBuf ??= Buffer.allocUnsafeSlow(READ_SIZE);
  const fd = openSync(path, 'r');
  try {
    for (let pos = start; pos < end;) {
      const n = readSync(fd, readBuf, 0, Math.min(READ_SIZE, end - pos), pos);
      if (n === 0) throw Object.assign(new Error(`${path} is shorter than ${end} bytes`), { code: 'ESHORT' });
      fn(readBuf.subarray(0, n), pos);
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * With `algs`, one pass over all the segments computes them, and the CRC of
 * each span on the way; with none, only the spans are read.
 */
function hashFiles(segments: FileSegment[], algs: Alg[], spans: FileSpan[]) {
  const job = new MultiHash(algs, false);
  const crcs = spans.map(() => createFastCrc64());
  let read = 0;
  if (algs.length === 0) {
    spans.forEach((sp, i) => readRange(segments[sp.segment].path, sp.start, sp.end, (b) => crcs[i].update(b)));
    read = spans.reduce((n, sp) => n + sp.end - sp.start, 0);
  } else {
    segments.forEach((s, k) => readRange(s.path, s.start, s.end, (b, pos) => {
      job.update(b);
      spans.forEach((sp, i) => {
        const from = Math.max(sp.start, pos);
        const to = Math.min(sp.end, pos + b.length);
        if (sp.segment === k && from < to) crcs[i].update(b.subarray(from - pos, to - pos));
      });
    }));
    read = segments.reduce((n, s) => n + s.end - s.start, 0);
  }
  return { ...job.finish(), spans: crcs.map((c) => c.digest()), read };
}

interface Follow {
  fd: number;
  path: string;
  hash: MultiHash;
  pos: number;
}

type Message =
  | { op: 'follow'; id: number; path: string; algs: Alg[]; checkpoints: boolean }
  | { op: 'grow'; id: number; upTo: number }
  | { op: 'end'; id: number; size: number }
  | { op: 'drop'; id: number }
  | { op: 'file'; id: number; segments: FileSegment[]; algs: Alg[]; spans: FileSpan[] };

const follows = new Map<number, Follow>();

/** Hashes a followed file from where it stopped up to `upTo`. */
function catchUp(f: Follow, upTo: number): void {
  readBuf ??= Buffer.allocUnsafeSlow(READ_SIZE);
  while (f.pos < upTo) {
    const n = readSync(f.fd, readBuf, 0, Math.min(READ_SIZE, upTo - f.pos), f.pos);
    if (n === 0) throw Object.assign(new Error(`${f.path} is shorter than ${upTo} bytes`), { code: 'ESHORT' });
    f.hash.update(readBuf.subarray(0, n));
    f.pos += n;
  }
}

function forget(id: number): void {
  const f = follows.get(id);
  follows.delete(id);
  if (f) closeSync(f.fd);
}

function handle(m: Message): void {
  switch (m.op) {
    case 'follow':
      follows.set(m.id, { fd: openSync(m.path, 'r'), path: m.path, hash: new MultiHash(m.algs, m.checkpoints), pos: 0 });
      return;
    case 'grow': {
      const f = follows.get(m.id);
      if (!f) return;
      catchUp(f, m.upTo);
      parentPort!.postMessage({ id: m.id, hashed: f.pos });
      return;
    }
    case 'end': {
      const f = follows.get(m.id);
      if (!f) throw new Error(`hash job ${m.id} is unknown`);
      try {
        catchUp(f, m.size);
      } finally {
        forget(m.id);
      }
      parentPort!.postMessage({ id: m.id, ...f.hash.finish() });
      return;
    }
    case 'drop':
      forget(m.id);
      return;
    case 'file':
      parentPort!.postMessage({ id: m.id, ...hashFiles(m.segments, m.algs, m.spans) });
      return;
  }
}

parentPort!.on('message', (m: Message) => {
  try {
    handle(m);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (m.op === 'grow') forget(m.id);
    parentPort!.postMessage({ id: m.id, error: err.message ?? String(e), code: err.code });
  }
});
parentPort!.postMessage({ ready: true });
