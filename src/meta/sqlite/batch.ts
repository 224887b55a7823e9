import { closeSync, fdatasync, openSync } from 'node:fs';
import type { Database, Statement } from 'better-sqlite3';

/**
 * Group commit for better-sqlite3. Writes queued in the same turn of the event
 * loop run in one transaction (one WAL append, one fsync), each inside its own
 * savepoint so that one that throws rolls back alone. Every caller's promise
 * settles only after the shared COMMIT is durable, so an acknowledged write
 * is durable. Reads need no queue: they run synchronously between batches.
 *
 * Durability without blocking the event loop: for a WAL database the Batcher
 * sets `synchronous = NORMAL` (COMMIT appends to the WAL without fsync) and
 * fdatasyncs the WAL file itself on libuv's thread pool after each COMMIT,
 * settling the batch's callers only when a sync that began after their COMMIT
 * has finished. The WAL is append-only between checkpoints, and SQLite syncs
 * it before every checkpoint, so that sync covers the batch and every commit
 * before it: an acknowledged write survives a crash or power loss exactly as
 * with `synchronous = FULL`, whose fsync inside COMMIT would stall every
 * request for its duration. One sync runs at a time; commits made while it
 * runs share the next one. (A reader may see a commit before its sync ends:
 * it is not yet acknowledged to its writer, as with any write in flight.)
 */
export class Batcher {
  private queue: Array<{ fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;
  private readonly tx: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', Statement>;
  private readonly wal?: WalSync;

  constructor(private readonly db: Database, private readonly maxBatch = 256) {
    const p = (sql: string) => db.prepare(sql);
    this.tx = {
      begin: p('BEGIN IMMEDIATE'), commit: p('COMMIT'), rollback: p('ROLLBACK'),
      savepoint: p('SAVEPOINT op'), release: p('RELEASE op'), rollbackTo: p('ROLLBACK TO op'),
    };
    if (!db.memory && String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal') {
      this.wal = new WalSync(`${db.name}-wal`);
      db.pragma('synchronous = NORMAL');
    }
  }

  /** Releases the WAL file handle; call after the last batch settled, before closing the database. */
  close(): void {
    this.wal?.close();
  }

  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0, this.maxBatch);
    if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    const outcomes: Array<{ ok: boolean; value: unknown }> = [];
    try {
      this.tx.begin.run();
      for (const item of batch) {
        this.tx.savepoint.run();
        try {
          outcomes.push({ ok: true, value: item.fn() });
          this.tx.release.run();
        } catch (e) {
          this.tx.rollbackTo.run();
          this.tx.release.run();
          outcomes.push({ ok: false, value: e });
        }
      }
      this.tx.commit.run();
    } catch (e) {
      if (this.db.inTransaction) this.tx.rollback.run();
      for (const item of batch) item.reject(e);
      return;
    }
    const settle = () => batch.forEach((item, i) => (outcomes[i].ok ? item.resolve(outcomes[i].value) : item.reject(outcomes[i].value)));
    if (!this.wal) return settle();
    this.wal.committed().then(settle, (e) => batch.forEach((item) => item.reject(e)));
  }
}

/**
 * fdatasync of the WAL file after commits, one at a time, each covering every
 * commit made before it began. The file stays open (one descriptor, opened at
 * the first sync): the WAL keeps its inode while the database is open, since
 * SQLite deletes it only when the last connection closes.
 */
class WalSync {
  private fd?: number;
  private commits = 0;
  private running = false;
  private waiters: Array<{ upTo: number; ok: () => void; fail: (e: unknown) => void }> = [];

  constructor(private readonly path: string) {}

  /** Call right after a COMMIT returned: resolves once that commit is on disk. */
  committed(): Promise<void> {
    const upTo = ++this.commits;
    return new Promise((ok, fail) => {
      this.waiters.push({ upTo, ok, fail });
      this.next();
    });
  }

  private next(): void {
    if (this.running || this.waiters.length === 0) return;
    this.running = true;
    const target = this.commits;
    const done = (err?: unknown) => {
      const covered = this.waiters.filter((w) => w.upTo <= target);
      this.waiters = this.waiters.filter((w) => w.upTo > target);
      for (const w of covered) (err === undefined ? w.ok() : w.fail(err));
      this.running = false;
      this.next();
    };
    this.sync().then(() => done(), (e) => done(e ?? new Error('WAL sync failed')));
  }

  private sync(): Promise<void> {
    return new Promise((ok, fail) => {
      try {
        this.fd ??= openSync(this.path, 'r');
      } catch (e) {
        return fail(e);
      }
      fdatasync(this.fd, (err) => (err ? fail(err) : ok()));
    });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
