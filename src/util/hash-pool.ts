/**
 * Hashing on worker threads, so that MD5 and the flexible checksums of large
 * bodies run beside the event loop instead of on it (MD5 is the bound of a
 * large PUT: DESIGN.md, "Where the time goes"). One pool per server, built in
 * startServer and reached through Deps; `close()` ends its threads.
 *
 * The threads start on first use, not with the server (a server that never
 * sees a large body never pays for them); until they are ready, `follow`
 * answers undefined and the caller hashes on its own thread.
 *
 * No byte crosses from the event loop to a thread: a thread reads what it
 * hashes from the blob file itself. A body being written is hashed as a job
 * that follows its file (hash-worker.ts): after each write lands, the threads
 * are told how far the file goes and read the new bytes back (from the page
 * cache). Its algorithms run in up to two lanes on different threads, MD5 in
 * one and the checksums with the CRC-64/NVME prefix checkpoints
 * (crc-checkpoints.ts) in the other, so one large upload uses two cores. A
 * writer may run at most MAX_LAG bytes ahead of its slowest lane. Copies
 * hash ranges of existing blob files the same way (`file`).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FileSegment, FileSpan } from './hash-worker.js';
import type { HashAlgorithm, HashResult } from './multi-hash.js';

export type { FileSegment, FileSpan, HashAlgorithm, HashResult };

/** Digests of file ranges, and the CRC-64/NVME of each span asked for. */
export interface FileHashResult extends HashResult {
  spans: Buffer[];
}

const MiB = 1 << 20;
/** How far a writer may run ahead of the hashing of its file. */
const MAX_LAG = 16 * MiB;

interface Reply {
  id?: number;
  hashed?: number;
  ready?: boolean;
  error?: string;
  code?: string;
  digests?: Partial<Record<HashAlgorithm, Uint8Array>>;
  checkpoints?: Uint8Array;
  spans?: Uint8Array[];
  read?: number;
}

interface Pending {
  resolve(r: FileHashResult): void;
  reject(e: Error): void;
  /** Progress of a followed file. */
  hashed?(bytes: number): void;
}

/**
 * How a new thread loads hash-worker.ts. From TypeScript source, through
 * tsx's in-thread CommonJS hooks: its ESM hooks would start a loader thread
 * per worker (about twice the memory, and slower to start).
 */
function spawn(): Worker {
  const entry = new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url);
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry);
  const api = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const boot = `require(${JSON.stringify(api)}).register(); require(${JSON.stringify(fileURLToPath(entry))});`;
  return new Worker(boot, { eval: true });
}

const asBuffer = (v: Uint8Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** Rough CPU cost of hashing 1 MiB with `algs`, in MD5s (MD5 about 2.3 ms; the CRC-64/NVME kernel and SHA-256 under half of that). */
function laneCost(algs: HashAlgorithm[], checkpoints: boolean): number {
  const each: Record<HashAlgorithm, number> = { MD5: 1, CRC64NVME: 0.4, CRC32: 0.1, CRC32C: 0.6, SHA1: 0.5, SHA256: 0.5 };
  const all = new Set<HashAlgorithm>(checkpoints ? [...algs, 'CRC64NVME'] : algs);
  return [...all].reduce((n, a) => n + each[a], 0);
}

class PoolThread {
  readonly worker = spawn();
  readonly ready: Promise<void>;
  /** Work queued on this thread, in MiB of MD5 (laneCost): where the next lane goes. */
  load = 0;
  dead?: Error;

  constructor(onReply: (m: Reply) => void, onDeath: (t: PoolThread, e: Error) => void) {
    // The threads only serve requests: they never keep a process alive on their own.
    this.worker.unref();
    this.ready = new Promise((ok, fail) => {
      const die = (e: Error) => {
        this.dead ??= e;
        onDeath(this, e);
        fail(e);
      };
      this.worker.on('message', (m: Reply) => (m.ready ? ok() : onReply(m)));
      this.worker.on('error', die);
      this.worker.on('exit', (code) => die(new Error(`hash worker exited (${code})`)));
    });
    this.ready.catch(() => {});
  }
}

export class HashPool {
  private threads: PoolThread[] = [];
  private starting?: Promise<boolean>;
  private nextId = 1;
  private closed = false;
  private readonly pending = new Map<number, Pending>();
  /** Bytes the threads have read from files for `file` so far: what copies cost in reads. */
  fileBytesRead = 0;

  /** `size` threads (the number of cores); `onError` hears a pool that could not start. */
  constructor(readonly size: number, private readonly onError: (e: Error) => void = () => {}) {}

  /** Starts the threads if needed; resolves false when they cannot run (callers then hash on their own thread). */
  whenReady(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.threads.some((t) => t.dead)) this.restart();
    this.starting ??= this.start().catch((e: Error) => {
      this.onError(e);
      this.restart();
      return false;
    });
    return this.starting;
  }

  private async start(): Promise<boolean> {
    // A thread of an older set (terminated by restart) takes no current job with it.
    const onDeath = (t: PoolThread, e: Error) => {
      if (this.threads.includes(t)) this.failAll(e);
    };
    this.threads = Array.from({ length: this.size }, () => new PoolThread((m) => this.reply(m), onDeath));
    await Promise.all(this.threads.map((t) => t.ready));
    return true;
  }

  /** Drops every thread (one died or they could not start); the next use starts a new set. */
  private restart(): void {
    for (const t of this.threads) void t.worker.terminate();
    this.threads = [];
    this.starting = undefined;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private reply(m: Reply): void {
    const p = this.pending.get(m.id!);
    if (!p) return;
    if (m.hashed !== undefined) return p.hashed?.(m.hashed);
    this.pending.delete(m.id!);
    if (m.error !== undefined) return p.reject(Object.assign(new Error(m.error), { code: m.code }));
    const digests: HashResult['digests'] = {};
    for (const [a, v] of Object.entries(m.digests ?? {})) digests[a as HashAlgorithm] = asBuffer(v);
    this.fileBytesRead += m.read ?? 0;
    p.resolve({ digests, checkpoints: m.checkpoints ? asBuffer(m.checkpoints) : undefined, spans: (m.spans ?? []).map(asBuffer) });
  }

  /** The threads, least loaded first, when all are running; otherwise undefined (and they are started). */
  private running(): PoolThread[] | undefined {
    if (this.closed || this.threads.length < this.size || this.threads.some((t) => t.dead) || !this.starting) {
      void this.whenReady();
      return undefined;
    }
    return [...this.threads].sort((a, b) => a.load - b.load);
  }

  /** Registers the reply of request `id` (and its progress reports). */
  private expect(id: number, hashed?: (bytes: number) => void): Promise<FileHashResult> {
    const p = new Promise<FileHashResult>((resolve, reject) => this.pending.set(id, { resolve, reject, hashed }));
    p.catch(() => {});
    return p;
  }

  /**
   * A job hashing the plain blob file at `path` as it is written: `algs` (and
   * CRC-64/NVME prefix checkpoints when asked), in two lanes when there are
   * two threads; undefined while the threads are not running.
   */
  follow(path: string, algs: HashAlgorithm[], checkpoints: boolean): FollowJob | undefined {
    const threads = this.running();
    if (!threads) return undefined;
    const rest = algs.filter((a) => a !== 'MD5');
    const split = threads.length > 1 && algs.includes('MD5') && (rest.length > 0 || checkpoints);
    const lanes: Array<[PoolThread, HashAlgorithm[], boolean]> = split
      ? [[threads[0], ['MD5'], false], [threads[1], rest, checkpoints]] // the heavier MD5 lane on the least loaded thread
      : [[threads[0], algs, checkpoints]];
    const job = new FollowJob((id) => this.pending.delete(id));
    for (const [t, a, cp] of lanes) {
      const id = this.nextId++;
      const cost = laneCost(a, cp) / MiB;
      let seen = 0;
      const result = this.expect(id, (hashed) => {
        t.load -= (hashed - seen) * cost;
        seen = hashed;
        job.progress(id, hashed);
      });
      job.lanes.push({ t, id, cost, result, hashed: 0 });
      t.worker.postMessage({ op: 'follow', id, path, algs: a, checkpoints: cp });
    }
    return job;
  }

  /**
   * Digests of the concatenated file byte ranges, and the CRC-64/NVME of each
   * span, read and hashed by a pool thread in one pass (only the spans are read
   * when `algs` is empty); undefined when the pool cannot run.
   */
  async file(segments: FileSegment[], algs: HashAlgorithm[], spans: FileSpan[] = []): Promise<FileHashResult | undefined> {
    if (!(await this.whenReady())) return undefined;
    const t = this.running()?.[0];
    if (!t) return undefined;
    const id = this.nextId++;
    const cost = (segments.reduce((n, s) => n + s.end - s.start, 0) / MiB) * laneCost(algs, false);
    t.load += cost;
    try {
      const r = this.expect(id);
      t.worker.postMessage({ op: 'file', id, segments, algs, spans });
      return await r;
    } finally {
      t.load -= cost;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const threads = this.threads;
    this.threads = [];
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}

interface Lane {
  t: PoolThread;
  id: number;
  /** laneCost per byte. */
  cost: number;
  result: Promise<FileHashResult>;
  /** Bytes this lane has hashed so far. */
  hashed: number;
}

/** One body hashed by the pool as its file is written. */
export class FollowJob {
  readonly lanes: Lane[] = [];
  private written = 0;
  /** Bytes counted in the lanes' thread load (those announced by grow). */
  private charged = 0;
  private room?: () => void;
  private done = false;
  /** The lanes were told to end (or to drop the job). */
  private finished = false;
  /** What end() waits for: the file holding `size` bytes. */
  private landed?: { size: number; ok: () => void; fail: (e: Error) => void };

  /** `forget` drops a lane's pending reply (the job was aborted). */
  constructor(private readonly forget: (laneId: number) => void) {}

  /** The file now holds `written` bytes (called after each write lands). */
  grow(written: number): void {
    if (this.done) {
      // Ending: the last writes are landing; the lanes read them at the end.
      this.written = written;
      if (this.landed && written >= this.landed.size) this.landed.ok();
      return;
    }
    for (const l of this.lanes) {
      l.t.load += (written - this.charged) * l.cost;
      l.t.worker.postMessage({ op: 'grow', id: l.id, upTo: written });
    }
    this.written = this.charged = written;
  }

  /** Resolves once every lane is within MAX_LAG of the bytes written (rejects when a lane failed). */
  async caughtUp(): Promise<void> {
    while (!this.done && this.lanes.some((l) => this.written - l.hashed > MAX_LAG)) {
      await Promise.race([new Promise<void>((ok) => (this.room = ok)), ...this.lanes.map((l) => l.result)]);
    }
  }

  /** A lane's progress report. */
  progress(id: number, hashed: number): void {
    const lane = this.lanes.find((l) => l.id === id);
    if (lane) lane.hashed = hashed;
    const go = this.room;
    this.room = undefined;
    go?.();
  }

  /** All lanes' digests of the file's first `size` bytes, merged, once that many have landed. */
  async end(size: number): Promise<HashResult> {
    if (this.finished) throw new Error('hash job aborted');
    this.done = true;
    if (this.written < size) await new Promise<void>((ok, fail) => (this.landed = { size, ok, fail }));
    if (this.finished) throw new Error('hash job aborted');
    this.finished = true;
    for (const l of this.lanes) l.t.worker.postMessage({ op: 'end', id: l.id, size });
    try {
      const out: HashResult = { digests: {} };
      for (const r of await Promise.all(this.lanes.map((l) => l.result))) {
        Object.assign(out.digests, r.digests);
        out.checkpoints ??= r.checkpoints;
      }
      return out;
    } finally {
      for (const l of this.lanes) l.t.load -= (this.charged - l.hashed) * l.cost;
    }
  }

  /** Forgets the job (the body or its write failed), unless its lanes were already told to end. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.done = true;
    for (const l of this.lanes) {
      l.t.load -= (this.charged - l.hashed) * l.cost;
      l.t.worker.postMessage({ op: 'drop', id: l.id });
      this.forget(l.id);
    }
    this.landed?.fail(new Error('hash job aborted'));
    this.room?.();
  }
}
