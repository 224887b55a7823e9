/**
 * Hashing on worker threads, so that MD5 and the flexible checksums of large
 * bodies run beside the event loop instead of on it (MD5 is the bound of a
 * large PUT: DESIGN.md, "Where the time goes"). One pool per server, built in
 * startServer and reached through Deps; `close()` ends its threads.
 *
 * The threads start on first use, not with the server (a server that never
 * sees a large body never pays for them); until they are ready, `stream`
 * answers undefined and the caller hashes on its own thread. A body is
 * hashed as a job in up to two lanes on different threads, MD5 in one and
 * the checksums (with CRC-64/NVME prefix checkpoints, crc-checkpoints.ts) in
 * the other, so one large upload uses two cores. Its bytes cross as 1 MiB
 * batches: the sender copies the body into a batch once and transfers it to
 * the first lane's thread, which passes it to the second over a direct port
 * (hash-worker.ts); the last acknowledges it. At most MAX_INFLIGHT batches
 * of a job are unacknowledged at a time.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { FileSegment, FileSpan } from './hash-worker.js';
import type { HashAlgorithm, HashResult } from './multi-hash.js';

export type { FileSegment, FileSpan, HashAlgorithm, HashResult };

/** Digests of file ranges, and the CRC-64/NVME of each span asked for. */
export interface FileHashResult extends HashResult {
  spans: Buffer[];
}

/** Bytes of one batch sent to a worker. */
export const BATCH_SIZE = 1 << 20;
const MAX_INFLIGHT = 4;

interface Reply {
  id?: number;
  ack?: boolean;
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

class PoolThread {
  readonly worker = spawn();
  readonly ready: Promise<void>;
  /** Work queued on this thread, in MiB of MD5 (see laneCost): where the next lane goes. */
  load = 0;
  dead?: Error;

  constructor(readonly index: number, onReply: (m: Reply) => void, onDeath: (t: PoolThread, e: Error) => void) {
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
  private readonly acks = new Map<number, (ok: boolean) => void>();
  /** Bytes the threads have read from files so far (`file`): what copies cost in reads. */
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
    this.threads = Array.from({ length: this.size }, (_, i) => new PoolThread(i, (m) => this.reply(m), onDeath));
    // Every pair of threads gets a direct channel, for passing a batch from one lane to the next.
    for (let i = 0; i < this.size; i++) {
      for (let j = i + 1; j < this.size; j++) {
        const { port1, port2 } = new MessageChannel();
        this.threads[i].worker.postMessage({ op: 'peer', thread: j, port: port1 }, [port1]);
        this.threads[j].worker.postMessage({ op: 'peer', thread: i, port: port2 }, [port2]);
      }
    }
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
    for (const a of this.acks.values()) a(false);
    this.acks.clear();
  }

  private reply(m: Reply): void {
    if (m.ack) {
      return this.acks.get(m.id!)?.(true);
    }
    const p = this.pending.get(m.id!);
    if (!p) return;
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

  /**
   * An empty batch, in a fresh ArrayBuffer. Batches are not handed back for
   * reuse: the main isolate then holding buffers that had been transferred
   * away and back made V8 count them as external memory pressure and run a
   * full GC every few tens of MiB allocated afterwards (a GET after a large
   * PUT cost twice the CPU).
   */
  batch(): Buffer {
    return Buffer.from(new ArrayBuffer(BATCH_SIZE));
  }

  /**
   * A streaming job over `algs` (and CRC-64/NVME prefix checkpoints when
   * asked), or undefined while the threads are not running.
   */
  stream(algs: HashAlgorithm[], checkpoints: boolean): StreamJob | undefined {
    const threads = this.running();
    if (!threads) return undefined;
    const rest = algs.filter((a) => a !== 'MD5');
    const split = threads.length > 1 && algs.includes('MD5') && (rest.length > 0 || checkpoints);
    const lane = (t: PoolThread, a: HashAlgorithm[], cp: boolean): Lane => ({ t, id: this.nextId++, algs: a, checkpoints: cp, cost: laneCost(a, cp) });
    // The MD5 lane, the heavier, goes to the least loaded thread.
    const lanes = split ? [lane(threads[0], ['MD5'], false), lane(threads[1], rest, checkpoints)] : [lane(threads[0], algs, checkpoints)];
    return new StreamJob(this, lanes);
  }

  /** Waits for the digests of lane `id`. */
  result(id: number): Promise<FileHashResult> {
    const p = new Promise<FileHashResult>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    p.catch(() => {});
    return p;
  }

  /** Forgets lane `id`'s result (its job was dropped). */
  forget(id: number): void {
    this.pending.delete(id);
  }

  /** Calls `fn` for each batch a job's last lane has hashed (false: the thread died). */
  onAck(job: number, fn: ((ok: boolean) => void) | undefined): void {
    if (fn) this.acks.set(job, fn);
    else this.acks.delete(job);
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
    const bytes = segments.reduce((n, s) => n + s.end - s.start, 0);
    const cost = (bytes / BATCH_SIZE) * laneCost(algs, false);
    t.load += cost;
    try {
      const r = this.result(id);
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
  algs: HashAlgorithm[];
  checkpoints: boolean;
  /** laneCost of one batch. */
  cost: number;
}

/** Rough CPU cost of hashing 1 MiB with `algs`, in MD5s (MD5 about 2.3 ms; the CRC-64/NVME kernel and SHA-256 under half of that). */
function laneCost(algs: HashAlgorithm[], checkpoints: boolean): number {
  const each: Record<HashAlgorithm, number> = { MD5: 1, CRC64NVME: 0.4, CRC32: 0.1, CRC32C: 0.6, SHA1: 0.5, SHA256: 0.5 };
  const all = new Set<HashAlgorithm>(checkpoints ? [...algs, 'CRC64NVME'] : algs);
  return [...all].reduce((n, a) => n + each[a], 0);
}

/** One body hashed by the pool, in lanes. */
export class StreamJob {
  private readonly job: number;
  private readonly route: Array<{ thread: number; id: number }>;
  private readonly results: Array<Promise<HashResult>>;
  private inflight = 0;
  private room?: () => void;
  private failed?: Error;
  private done = false;

  constructor(private readonly pool: HashPool, private readonly lanes: Lane[]) {
    this.job = lanes[0].id;
    this.route = lanes.map((l) => ({ thread: l.t.index, id: l.id }));
    this.results = lanes.map((l) => pool.result(l.id));
    pool.onAck(this.job, (ok) => {
      if (!ok) this.failed ??= new Error('a hash worker died');
      this.inflight--;
      for (const l of this.lanes) l.t.load -= l.cost;
      if (this.room && (this.failed || this.inflight < MAX_INFLIGHT)) {
        const go = this.room;
        this.room = undefined;
        go();
      }
    });
    const open = lanes.map((l) => ({ thread: l.t.index, id: l.id, algs: l.algs, checkpoints: l.checkpoints }));
    lanes[0].t.worker.postMessage({ op: 'open', job: this.job, lanes: open });
  }

  /** An empty batch to fill and `write`. */
  batch(): Buffer {
    return this.pool.batch();
  }

  /** Hashes the first `len` bytes of `batch` (from `batch()`; it is transferred away). Resolves once there is room for another. */
  async write(batch: Buffer, len: number): Promise<void> {
    if (this.failed) throw this.failed;
    this.inflight++;
    for (const l of this.lanes) l.t.load += l.cost;
    const buf = batch.buffer as ArrayBuffer;
    this.lanes[0].t.worker.postMessage({ op: 'data', job: this.job, lanes: this.route, buf, len }, [buf]);
    if (this.inflight >= MAX_INFLIGHT) await new Promise<void>((ok) => (this.room = ok));
    if (this.failed) throw this.failed;
  }

  /** All lanes' digests merged. */
  async end(): Promise<HashResult> {
    this.done = true;
    this.lanes[0].t.worker.postMessage({ op: 'end', job: this.job, lanes: this.route });
    try {
      const out: HashResult = { digests: {} };
      for (const r of await Promise.all(this.results)) {
        Object.assign(out.digests, r.digests);
        out.checkpoints ??= r.checkpoints;
      }
      return out;
    } finally {
      this.pool.onAck(this.job, undefined);
    }
  }

  /** Forgets the job (the body failed). */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.lanes[0].t.worker.postMessage({ op: 'drop', job: this.job, lanes: this.route });
    this.pool.onAck(this.job, undefined);
    for (const l of this.lanes) l.t.load -= this.inflight * l.cost;
    for (const l of this.lanes) this.pool.forget(l.id);
    this.room?.();
  }
}
