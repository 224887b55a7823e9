import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { open, readdir, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { BlobStore, BlobWriter } from './types.js';

const WRITE_GRANULE = 1 << 20;
const SYNC_EVERY = 64 << 20;

/**
 * Blobs as files under `<dir>/<xx>/<id>`, where id is `f` + 30 random hex
 * digits and xx its first two digits. A blob is written straight to its final
 * name: it becomes visible only when a manifest in the metadata store names it,
 * so a crash before that leaves an unreferenced file for the reaper, never a
 * torn object. `commit()` fdatasyncs the file and fsyncs its directory before
 * the caller commits metadata. Long writes are synced in the background every
 * 64 MiB so the final sync has little left to flush.
 *
 * A blob being written is kept from the reaper (jobs/collector.ts) from
 * `create()` until its writer is released (its manifest committed, or the
 * blob discarded), however slowly its bytes arrive:
 * - in this process, `writing(id)` is true, and the reaper skips it;
 * - for other processes sharing the directory (gateways over one mount), its
 *   modification time is renewed every `heartbeatMs` (well inside the
 *   reaper's grace period), so it never looks old to any reaper.
 * Should a reaper remove it anyway (a process stalled past the grace period),
 * the metadata store refuses to register the id (the reaper's tombstone), and
 * `commit()` fails if the file is gone or short: an error, never a lost write.
 */
export class FsBlobStore implements BlobStore {
  /** Blobs being written: id -> file path. */
  private readonly live = new Map<string, string>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly heartbeatMs: number;

  constructor(private readonly dir: string, opts: { heartbeatMs?: number } = {}) {
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 256; i++) mkdirSync(join(dir, i.toString(16).padStart(2, '0')), { recursive: true });
  }

  writing(id: string): boolean {
    return this.live.has(id);
  }

  private hold(id: string, path: string): () => void {
    this.live.set(id, path);
    this.heartbeat ??= setInterval(() => this.renew(), this.heartbeatMs).unref();
    return () => {
      this.live.delete(id);
      if (this.live.size === 0 && this.heartbeat) {
        clearInterval(this.heartbeat);
        this.heartbeat = undefined;
      }
    };
  }

  /** Renews the modification time of every blob being written (a file already gone stays gone). */
  private renew(): void {
    const now = new Date();
    for (const path of this.live.values()) utimes(path, now, now).catch(() => undefined);
  }

  filePath(id: string): string {
    return this.path(id);
  }

  path(id: string): string {
    if (!/^f[0-9a-f]{30}$/.test(id)) throw new Error(`not a file blob id: ${id}`);
    return join(this.dir, id.slice(1, 3), id);
  }

  async create(): Promise<BlobWriter> {
    const id = 'f' + randomBytes(15).toString('hex');
    const path = this.path(id);
    const release = this.hold(id, path);
    try {
      return new FsBlobWriter(id, path, join(this.dir, id.slice(1, 3)), await open(path, 'wx'), release);
    } catch (e) {
      release();
      throw e;
    }
  }

  read(id: string, start: number, end: number): Readable {
    if (end <= start) return Readable.from([]);
    return createReadStream(this.path(id), { start, end: end - 1, highWaterMark: WRITE_GRANULE });
  }

  async remove(id: string): Promise<void> {
    await unlink(this.path(id)).catch((e) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  async *list(): AsyncIterable<{ id: string; mtimeMs: number }> {
    for (let i = 0; i < 256; i++) {
      const sub = join(this.dir, i.toString(16).padStart(2, '0'));
      for (const name of await readdir(sub).catch(() => [] as string[])) {
        if (!/^f[0-9a-f]{30}$/.test(name)) continue;
        const st = await stat(join(sub, name)).catch(() => undefined);
        if (st) yield { id: name, mtimeMs: st.mtimeMs };
      }
    }
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

class FsBlobWriter implements BlobWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private inflight: Promise<unknown> = Promise.resolve();
  private syncing: Promise<unknown> = Promise.resolve();
  private written = 0;
  /** Bytes whose write has completed. */
  private landed = 0;
  private listener?: (written: number) => void;
  private sinceSync = 0;
  private failed: unknown;

  constructor(
    readonly id: string, private readonly path: string, private readonly dir: string, private readonly fh: FileHandle,
    readonly release: () => void,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= WRITE_GRANULE) await this.flush();
  }

  /** Keeps at most one write in flight while the next granule fills. */
  private async flush(): Promise<void> {
    await this.inflight;
    if (this.failed) throw this.failed;
    const bufs = this.pending;
    const n = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (n === 0) return;
    this.inflight = this.fh.writev(bufs).then(
      (r) => {
        if (r.bytesWritten !== n) this.failed = new Error('short write');
        else {
          this.landed += n;
          this.listener?.(this.landed);
        }
      },
      (e) => {
        this.failed = e;
      },
    );
    this.written += n;
    this.sinceSync += n;
    if (this.sinceSync >= SYNC_EVERY) {
      this.sinceSync = 0;
      const before = this.inflight;
      this.syncing = Promise.all([this.syncing, before]).then(() => this.fh.datasync()).catch((e) => {
        this.failed = e;
      });
    }
  }

  follow(listener: (written: number) => void): string {
    this.listener = listener;
    return this.path;
  }

  async commit(): Promise<number> {
    await this.flush();
    await this.inflight;
    await this.syncing;
    if (this.failed) throw this.failed;
    await this.fh.datasync();
    const held = await this.fh.stat();
    await this.fh.close();
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    // The file must still be this blob, whole, at its name: were it removed meanwhile, the bytes written are lost.
    const named = await stat(this.path).catch(() => undefined);
    if (held.nlink === 0 || held.size !== this.written || named?.ino !== held.ino || named.size !== this.written) {
      throw new Error(`blob ${this.id} vanished or was cut short before its commit (${named ? named.size : 'no file'}, ${this.written} bytes written)`);
    }
    return this.written;
  }

  async abort(): Promise<void> {
    await this.inflight.catch(() => undefined);
    await this.syncing.catch(() => undefined);
    await this.fh.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
    this.release();
  }
}
