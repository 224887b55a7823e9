import type { Database } from 'better-sqlite3';

/**
 * Group commit for better-sqlite3. Writes queued in the same turn of the event
 * loop run in one transaction (one WAL append, one fsync), each inside its own
 * savepoint so that one that throws rolls back alone. Every caller's promise
 * settles only after the shared COMMIT returned, so an acknowledged write is
 * durable. Reads need no queue: they run synchronously between batches and
 * see committed state only.
 */
export class Batcher {
  private queue: Array<{ fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;

  constructor(private readonly db: Database, private readonly maxBatch = 256) {}

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
      this.db.exec('BEGIN IMMEDIATE');
      for (const item of batch) {
        this.db.exec('SAVEPOINT op');
        try {
          outcomes.push({ ok: true, value: item.fn() });
          this.db.exec('RELEASE op');
        } catch (e) {
          this.db.exec('ROLLBACK TO op');
          this.db.exec('RELEASE op');
          outcomes.push({ ok: false, value: e });
        }
      }
      this.db.exec('COMMIT');
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const item of batch) item.reject(e);
      return;
    }
    batch.forEach((item, i) => (outcomes[i].ok ? item.resolve(outcomes[i].value) : item.reject(outcomes[i].value)));
  }
}
