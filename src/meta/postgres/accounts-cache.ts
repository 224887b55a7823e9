import pg from 'pg';

/**
 * The channel every accounts change is announced on: the change's own
 * transaction runs `pg_notify` (store.ts, BUMP_ACCOUNTS), so listeners hear
 * of it exactly when it commits, never before.
 */
export const ACCOUNTS_CHANNEL = 'tessera_accounts';

export interface AccountsCacheOptions {
  connectionString?: string;
  /** How long a read generation is trusted at most (ms). */
  maxAgeMs: number;
  /** Wait before listening again after the listening connection was lost (ms). */
  retryMs: number;
  onError?: (err: Error) => void;
}

/**
 * The accounts generation without a database round trip per signed request.
 *
 * A gateway compares the generation before every signed request, so that a
 * key revoked anywhere stops working (api/accounts.ts). Here the generation
 * is read once and then trusted while this process LISTENs on
 * ACCOUNTS_CHANNEL; every notification drops it, normally milliseconds after
 * the change commits in whichever process made it. What keeps "a revoked key
 * stops working at once" true:
 *
 * - A change made through this store drops the cached value before its call
 *   returns: the process that made it sees it with its very next request.
 * - A cached value is trusted for at most `maxAgeMs` after the read that
 *   produced it began. A notification still in flight, or lost on a
 *   connection that died silently, delays another process's change by at
 *   most that long: the documented bound.
 * - A read that began before a drop never fills the cache, and nothing is
 *   cached while the listening connection is down (every check then reads
 *   the database, as without a cache) until it is back, `retryMs` later.
 *
 * The listening connection opens with the first check, so processes that
 * never check (`tessera admin`, the collector's tests) never open it.
 */
export class AccountsGenerationCache {
  private cached: { generation: number; readAt: number } | undefined;
  /** Bumped by every drop: a read that began before one must not fill the cache. */
  private epoch = 0;
  private listener: pg.Client | undefined;
  private listening = false;
  private warned = false;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: AccountsCacheOptions, private readonly read: () => Promise<number>) {}

  async generation(): Promise<number> {
    if (!this.listener && !this.retry && !this.closed) this.listen();
    const startedAt = performance.now();
    if (this.cached && startedAt - this.cached.readAt < this.opts.maxAgeMs) return this.cached.generation;
    const epoch = this.epoch;
    const trusted = this.listening;
    const generation = await this.read();
    if (trusted && this.listening && epoch === this.epoch) this.cached = { generation, readAt: startedAt };
    return generation;
  }

  /** Forgets the cached generation (a change was made, announced, or may have been missed). */
  drop(): void {
    this.epoch++;
    this.cached = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const c = this.listener;
    this.listener = undefined;
    this.listening = false;
    this.drop();
    await c?.end().catch(() => undefined);
  }

  private listen(): void {
    const c = new pg.Client({ connectionString: this.opts.connectionString, application_name: 'tessera', connectionTimeoutMillis: 10_000 });
    this.listener = c;
    c.on('notification', () => this.drop());
    c.on('error', (err) => this.lost(c, err));
    c.on('end', () => this.lost(c));
    c.connect()
      .then(() => c.query(`LISTEN ${ACCOUNTS_CHANNEL}`))
      .then(() => {
        if (this.listener !== c) return;
        // Reads that began before LISTEN took effect could miss a notification: none of them may fill the cache.
        this.drop();
        this.listening = true;
        this.warned = false;
      })
      .catch((err: Error) => this.lost(c, err));
  }

  /** The listening connection failed or ended: stop trusting the cache, listen again later. */
  private lost(c: pg.Client, err?: Error): void {
    if (this.listener !== c) return;
    this.listener = undefined;
    this.listening = false;
    this.drop();
    c.end().catch(() => undefined);
    if (this.closed) return;
    if (err && !this.warned) {
      this.warned = true;
      this.opts.onError?.(err);
    }
    this.retry = setTimeout(() => {
      this.retry = undefined;
    }, this.opts.retryMs);
    this.retry.unref();
  }
}
