/**
 * Hashing on worker threads, so that MD5 and the flexible checksums of large
 * bodies run beside the event loop instead of on it (MD5 is the bound of a
 * large PUT: DESIGN.md, "Where the time goes"). One pool per server, built in
 * startServer and reached through Deps; `close()` ends its threads.
 *
 * The threads start on first use, not with the server (a server that never
 * sees a large body never pays for them); until they are ready, `stream`
 * answers undefined and the caller hashes on its own thread, and `file`
 * waits for them. A body is hashed as a job in up to two lanes on different
 * threads: MD5 in one, the checksums (and CRC-64/NVME prefix checkpoints,
 * crc-checkpoints.ts) in the other, so one large upload uses both cores.
 * Bytes cross as 1 MiB batches in SharedArrayBuffers that the sender fills
 * once and never writes again (one copy for every lane, and for the disk
 * write); at most MAX_INFLIGHT batches of a job are unhashed at a time.
 */
import { Worker } from 'node:worker_threads';
import type { ChecksumAlgorithm } from './checksum.js';
import type { FileSegment } from './hash-worker.js';

export type HashAlgorithm = 'MD5' | ChecksumAlgorithm;
export type { FileSegment };

/** Raw digests by algorithm, and checkpoints when they were asked for. */
export interface HashResult {
  digests: Partial<Record<HashAlgorithm, Buffer>>;
  checkpoints?: Buffer;
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
}

interface Pending {
  resolve(r: HashResult): void;
  reject(e: Error): void;
  onAck?(): void;
}

/** How a new thread loads hash-worker.ts: through tsx when Tessera runs from TypeScript source. */
function spawn(): Worker {
  const entry = new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url);
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry);
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true });
}

class PoolThread {
  readonly worker = spawn();
  readonly ready: Promise<void>;
  /** Batches and file bytes queued on this thread: where the next lane goes. */
  load = 0;
  dead?: Error;
  private readonly pending = new Map<number, Pending>();

  constructor() {
    // The threads only serve requests: they never keep a process alive on their own.
    this.worker.unref();
    this.ready = new Promise((ok, fail) => {
      this.worker.on('message', (m: Reply) => {
        if (m.ready) ok();
        else this.reply(m);
      });
      this.worker.on('error', (e) => {
        this.fail(e);
        fail(e);
      });
      this.worker.on('exit', (code) => {
        const e = new Error(`hash worker exited (${code})`);
        this.fail(e);
        fail(e);
      });
    });
  }

  private reply(m: Reply): void {
    const p = this.pending.get(m.id!);
    if (!p) return;
    if (m.ack) return p.onAck?.();
    this.pending.delete(m.id!);
    if (m.error !== undefined) return p.reject(Object.assign(new Error(m.error), { code: m.code }));
    const digests: HashResult['digests'] = {};
    for (const [a, v] of Object.entries(m.digests ?? {})) digests[a as HashAlgorithm] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    p.resolve({ digests, checkpoints: m.checkpoints ? Buffer.from(m.checkpoints.buffer, m.checkpoints.byteOffset, m.checkpoints.byteLength) : undefined });
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Registers a reply handler for job `id` and posts `msg`. */
  call(id: number, msg: object, p: Pending): void {
    if (this.dead) return p.reject(this.dead);
    this.pending.set(id, p);
    this.worker.postMessage(msg);
  }

  post(msg: object): void {
    if (!this.dead) this.worker.postMessage(msg);
  }

  drop(id: number): void {
    this.pending.delete(id);
    this.post({ op: 'drop', id });
  }
}

export class HashPool {
  private threads: PoolThread[] = [];
  private starting?: Promise<boolean>;
  private nextId = 1;
  private closed = false;

  /** `size` threads (the number of cores); `onError` hears a pool that could not start. */
  constructor(readonly size: number, private readonly onError: (e: Error) => void = () => {}) {}

  /** Starts the threads if needed; resolves false when they cannot run (callers then hash on their own thread). */
  whenReady(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.threads.some((t) => t.dead)) {
      this.threads = this.threads.filter((t) => !t.dead);
      this.starting = undefined;
    }
    this.starting ??= (async () => {
      while (this.threads.length < this.size) this.threads.push(new PoolThread());
      await Promise.all(this.threads.map((t) => t.ready));
      return true;
    })().catch((e: Error) => {
      this.onError(e);
      for (const t of this.threads) void t.worker.terminate();
      this.threads = [];
      return false;
    });
    return this.starting;
  }

  /** The threads, least loaded first, when all are running; otherwise undefined (and they are started). */
  private running(): PoolThread[] | undefined {
    const live = this.threads.filter((t) => !t.dead);
    if (this.closed || live.length < this.size) {
      void this.whenReady();
      return undefined;
    }
    return live.sort((a, b) => a.load - b.load);
  }

  /**
   * A streaming job over `algs` (and CRC-64/NVME prefix checkpoints when
   * asked), or undefined while the threads are not running.
   */
  stream(algs: HashAlgorithm[], checkpoints: boolean): StreamJob | undefined {
    const threads = this.running();
    if (!threads) return undefined;
    const md5 = algs.includes('MD5');
    const rest = algs.filter((a) => a !== 'MD5');
    const lanes: Lane[] = [];
    if (threads.length > 1 && md5 && (rest.length > 0 || checkpoints)) {
      lanes.push({ t: threads[0], id: this.nextId++, algs: ['MD5'], checkpoints: false, unacked: 0 });
      lanes.push({ t: threads[1], id: this.nextId++, algs: rest, checkpoints, unacked: 0 });
    } else {
      lanes.push({ t: threads[0], id: this.nextId++, algs, checkpoints, unacked: 0 });
    }
    return new StreamJob(lanes);
  }

  /** Digests of the concatenated file byte ranges, read and hashed by a pool thread; undefined when the pool cannot run. */
  async file(segments: FileSegment[], algs: HashAlgorithm[]): Promise<HashResult | undefined> {
    if (!(await this.whenReady())) return undefined;
    const t = this.running()?.[0];
    if (!t) return undefined;
    const id = this.nextId++;
    const bytes = segments.reduce((n, s) => n + s.end - s.start, 0);
    t.load += bytes;
    try {
      return await new Promise<HashResult>((resolve, reject) => t.call(id, { op: 'file', id, segments, algs }, { resolve, reject }));
    } finally {
      t.load -= bytes;
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
  unacked: number;
  result?: Promise<HashResult>;
}

/** A SharedArrayBuffer-backed buffer for one batch: fill it, then `write` it and never touch it again. */
export function newBatch(size = BATCH_SIZE): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

/** One body hashed by the pool, in lanes. */
export class StreamJob {
  private room?: () => void;
  private ended = false;

  constructor(private readonly lanes: Lane[]) {
    for (const l of lanes) {
      l.result = new Promise<HashResult>((resolve, reject) => l.t.call(l.id, { op: 'open', id: l.id, algs: l.algs, checkpoints: l.checkpoints }, {
        resolve, reject,
        onAck: () => {
          l.unacked--;
          l.t.load -= BATCH_SIZE;
          if (this.room && this.lanes.every((x) => x.unacked < MAX_INFLIGHT)) {
            const go = this.room;
            this.room = undefined;
            go();
          }
        },
      }));
      // A lane that fails is seen by write() or end(); a writer waiting for room is woken to see it.
      l.result.catch(() => this.room?.());
    }
  }

  /**
   * Hashes `batch` (a Buffer over a whole SharedArrayBuffer from newBatch; only
   * its first `len` bytes count). Resolves once there is room for another.
   */
  async write(batch: Buffer, len = batch.length): Promise<void> {
    for (const l of this.lanes) {
      l.unacked++;
      l.t.load += BATCH_SIZE;
      l.t.post({ op: 'data', id: l.id, buf: batch.buffer, len });
    }
    const dead = this.lanes.find((l) => l.t.dead);
    if (dead) throw dead.t.dead;
    if (this.lanes.some((l) => l.unacked >= MAX_INFLIGHT)) await new Promise<void>((ok) => (this.room = ok));
    const failed = this.lanes.find((l) => l.t.dead);
    if (failed) throw failed.t.dead;
  }

  /** All lanes' digests merged. */
  async end(): Promise<HashResult> {
    this.ended = true;
    for (const l of this.lanes) l.t.post({ op: 'end', id: l.id });
    const out: HashResult = { digests: {} };
    for (const l of this.lanes) {
      const r = await l.result!;
      Object.assign(out.digests, r.digests);
      out.checkpoints ??= r.checkpoints;
    }
    return out;
  }

  /** Forgets the job (the body failed). */
  abort(): void {
    if (this.ended) return;
    this.ended = true;
    for (const l of this.lanes) {
      l.t.load -= l.unacked * BATCH_SIZE;
      l.t.drop(l.id);
    }
    this.room?.();
  }
}
