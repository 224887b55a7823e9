import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
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
 */
export class FsBlobStore implements BlobStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 256; i++) mkdirSync(join(dir, i.toString(16).padStart(2, '0')), { recursive: true });
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
    const fh = await open(path, 'wx');
    return new FsBlobWriter(id, path, join(this.dir, id.slice(1, 3)), fh);
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

  async close(): Promise<void> {}
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

  constructor(readonly id: string, private readonly path: string, private readonly dir: string, private readonly fh: FileHandle) {}

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
    await this.fh.close();
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    return this.written;
  }

  async abort(): Promise<void> {
    await this.inflight.catch(() => undefined);
    await this.syncing.catch(() => undefined);
    await this.fh.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }
}
