/**
 * A hashing worker thread of the HashPool (hash-pool.ts). It keeps the
 * digests of any number of jobs, each identified by the pool, and handles
 * messages in the order they come.
 *
 * A streaming job runs in one or more lanes, each on its own thread and
 * computing some of the digests; its messages name the lanes in order, and
 * each thread runs its lane then passes the message to the next lane's thread
 * over a direct port (`peer`), so one transferred batch visits every lane
 * without a copy and in order:
 * - `open`  {job, lanes}: each lane starts its algorithms (MD5 and the flexible
 *   checksums), with CRC-64/NVME prefix checkpoints (crc-checkpoints.ts) when asked;
 * - `data`  {job, lanes, buf, len}: the next `len` bytes of the job in a
 *   transferred ArrayBuffer, which the last lane acknowledges (`{id: job, ack}`):
 *   the pool's back-pressure;
 * - `end`   {job, lanes}: each lane answers `{id: lane id, digests, checkpoints}`;
 * - `drop`  {job, lanes}: forgets the job;
 * - `file`  {id, segments, algs, spans}: reads the byte ranges of files itself
 *   (no byte passes through the main thread) and answers their digests and
 *   the CRC-64/NVME of each span, in one pass (only the spans are read when
 *   no algorithm is asked), or `{id, error, code}` (ENOENT when a blob file
 *   was collected meanwhile).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, type MessagePort } from 'node:worker_threads';
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
const jobs = new Map<number, MultiHash>();
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

/** One lane of a job: the thread that runs it, its id there, and (for `open`) what it computes. */
interface Lane {
  thread: number;
  id: number;
  algs?: Alg[];
  checkpoints?: boolean;
}

type Message =
  | { op: 'peer'; thread: number; port: MessagePort }
  | { op: 'open' | 'end' | 'drop'; job: number; lanes: Lane[] }
  | { op: 'data'; job: number; lanes: Lane[]; buf: ArrayBuffer; len: number }
  | { op: 'file'; id: number; segments: FileSegment[]; algs: Alg[]; spans: FileSpan[] };

const peers = new Map<number, MessagePort>();

/** Runs this thread's lane (the first) of a chained job message, then passes the message on to the next lane's thread whatever happened here. */
function chained(m: Extract<Message, { lanes: Lane[] }>): void {
  const [lane, ...rest] = m.lanes;
  try {
    runLane(m, lane);
  } catch (e) {
    reportError(lane.id, e);
  }
  if (rest.length > 0) {
    const next = { ...m, lanes: rest };
    peers.get(rest[0].thread)!.postMessage(next, m.op === 'data' ? [m.buf] : []);
  } else if (m.op === 'data') {
    // The last lane acknowledges the batch: the pool's back-pressure.
    parentPort!.postMessage({ id: m.job, ack: true });
  }
}

function runLane(m: Extract<Message, { lanes: Lane[] }>, lane: Lane): void {
  const job = jobs.get(lane.id);
  if (m.op === 'open') jobs.set(lane.id, new MultiHash(lane.algs!, lane.checkpoints!));
  else if (m.op === 'data') job?.update(Buffer.from(m.buf, 0, m.len));
  else if (m.op === 'drop') jobs.delete(lane.id);
  else {
    jobs.delete(lane.id);
    if (!job) throw new Error(`hash job ${lane.id} is unknown`);
    parentPort!.postMessage({ id: lane.id, ...job.finish() });
  }
}

function reportError(id: number, e: unknown): void {
  const err = e as NodeJS.ErrnoException;
  parentPort!.postMessage({ id, error: err.message ?? String(e), code: err.code });
}

function handle(m: Message): void {
  if (m.op === 'peer') {
    peers.set(m.thread, m.port);
    m.port.on('message', onMessage);
  } else if (m.op === 'file') {
    parentPort!.postMessage({ id: m.id, ...hashFiles(m.segments, m.algs, m.spans) });
  } else {
    chained(m);
  }
}

function onMessage(m: Message): void {
  try {
    handle(m);
  } catch (e) {
    reportError(m.op === 'file' ? m.id : 'lanes' in m ? m.lanes[0].id : 0, e);
  }
}

parentPort!.on('message', onMessage);
parentPort!.postMessage({ ready: true });
