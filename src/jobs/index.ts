import type { Logger } from 'pino';
import type { BlobStore } from '../blob/types.js';
import type { Config } from '../config.js';
import type { MetaStore } from '../meta/types.js';
import { collectGarbage, reapOrphans } from './collector.js';

export interface JobRunner {
  /** Schedules a collector pass once the grace period of blobs freed now has passed. */
  collectSoon(): void;
  /** Runs every job now (tests call this; graceMs overrides the configured grace, `now` the clock). */
  runNow(opts?: { graceMs?: number; now?: number }): Promise<{ collected: number; reaped: number }>;
  /** Extra periodic work registered by API modules (lifecycle rules, restores). */
  register(name: string, job: (now: number) => Promise<void>): void;
  stop(): void;
}

export function startJobs(meta: MetaStore, blobs: BlobStore, config: Config, log: Logger): JobRunner {
  const extra = new Map<string, (now: number) => Promise<void>>();
  let soon: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const runNow = async (opts: { graceMs?: number; now?: number } = {}) => {
    const grace = opts.graceMs ?? config.blobGraceMs;
    const now = opts.now ?? Date.now();
    for (const [name, job] of extra) {
      await job(now).catch((err) => log.error({ err, job: name }, 'job failed'));
    }
    const collected = await collectGarbage(meta, blobs, grace, now);
    const reaped = await reapOrphans(meta, blobs, grace, now);
    await meta.pruneCompleted(now - config.completeRetryWindowMs);
    return { collected, reaped };
  };
  const serial = (opts?: { graceMs?: number; now?: number }) => {
    const p = running.then(() => (stopped ? { collected: 0, reaped: 0 } : runNow(opts)));
    running = p.catch(() => undefined);
    return p;
  };
  const timer = config.jobIntervalMs > 0
    ? setInterval(() => serial().catch((err) => log.error({ err }, 'jobs failed')), config.jobIntervalMs).unref()
    : undefined;

  return {
    collectSoon() {
      if (soon || stopped || config.jobIntervalMs === 0) return;
      soon = setTimeout(() => {
        soon = undefined;
        serial().catch((err) => log.error({ err }, 'collector failed'));
      }, config.blobGraceMs + 1000).unref();
    },
    runNow: serial,
    register(name, job) {
      extra.set(name, job);
    },
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      if (soon) clearTimeout(soon);
    },
  };
}
