import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { openAccounts } from './engine/accounts/accounts.js';
import { createAuthenticator } from './auth/index.js';
import type { BlobStore } from './blob/types.js';
import { DEFAULTS, type Config } from './config.js';
import { dispatch, type ServerDeps } from './http/dispatch.js';
import { answerOps, Metrics, OPS_PREFIX } from './http/ops.js';
import { answerClientErrors } from './http/client-errors.js';
import { startJobs, type JobRunner } from './jobs/index.js';
import { ServerKeys } from './crypto/keys.js';
import { registerLifecycleJob } from './api/bucket/lifecycle.js';
import type { DataDirLock } from './meta/sqlite/lock.js';
import { lockForServer, openBlobStore, openMetaStore } from './stores.js';
import type { MetaStore } from './meta/types.js';
import { withBucketCache } from './meta/bucket-cache.js';
import { HashPool } from './util/hash-pool.js';

export interface StartOptions extends Partial<Omit<Config, 'meta'>> {
  /** A ready logger; otherwise pino at `logLevel` (default 'warn' when embedded). */
  logger?: Logger;
  /**
   * A ready metadata store (closed with the server), or which one to open:
   * 'sqlite' (default, in the data directory) or 'postgres' (at `postgresUrl`).
   */
  meta?: MetaStore | Config['meta'];
  blobs?: BlobStore;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  dataDir: string;
  deps: ServerDeps;
  jobs: JobRunner;
  close(): Promise<void>;
}

/**
 * Starts Tessera in this process. Without `dataDir`, data goes to a new
 * temporary directory that `close()` removes; `port: 0` picks a free port.
 * Everything is built here and passed down: two servers can share a process.
 */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const { logger, meta: givenMeta, blobs: givenBlobs, ...overrides } = options;
  const temporary = overrides.dataDir === undefined;
  const config: Config = { ...DEFAULTS, logLevel: 'warn', port: 0, ...overrides } as Config;
  config.dataDir = resolve(temporary ? mkdtempSync(join(tmpdir(), 'tessera-')) : config.dataDir);
  mkdirSync(config.dataDir, { recursive: true });
  const log = logger ?? pino({ level: config.logLevel });
  config.meta = typeof givenMeta === 'object' ? givenMeta.kind : givenMeta ?? config.meta;
  let lock: DataDirLock | undefined;
  /** Undoes the start: a failed start or a close leaves no lock and no temporary directory. */
  const abandon = () => {
    lock?.release();
    if (temporary) rmSync(config.dataDir, { recursive: true, force: true });
  };
  const secure = Boolean(config.tlsCert && config.tlsKey);
  let server: Server;
  let sseKeys: ServerKeys;
  let store: MetaStore;
  try {
    // The TLS and master key files are read now: a missing or bad one fails the start before anything opens.
    server = secure ? createHttpsServer({ cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!) }) : createHttpServer();
    // SQLite mode: one server per data directory, held before anything in it is opened (meta/sqlite/lock.ts).
    lock = lockForServer(config);
    sseKeys = new ServerKeys(config.dataDir, log, config.masterKeyFile);
    store = typeof givenMeta === 'object' ? givenMeta : await openMetaStore(config, { log });
  } catch (e) {
    abandon();
    throw e;
  }
  // Bucket rows are cached: at most 1 s old, dropped at once by this server's own changes (meta/bucket-cache.ts).
  const meta = withBucketCache(store);
  const blobs = givenBlobs ?? openBlobStore(config);
  const accounts = await openAccounts(config, meta, log).catch(async (e) => {
    await meta.close();
    await blobs.close();
    abandon();
    throw e;
  });
  const jobs = startJobs(meta, blobs, config, log);
  const auth = createAuthenticator((id) => accounts.lookup(id));
  const metrics = new Metrics();
  // One hashing thread per core, started on the first large body.
  const hashPool = new HashPool(availableParallelism(), (err) => log.warn({ error: err.message }, 'hash threads could not start; hashing on the main thread'));
  const deps: ServerDeps = { meta, blobs, config, log, accounts, auth, jobs, sseKeys, metrics, hashPool };
  registerLifecycleJob(deps);

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const answer = req.url?.startsWith(OPS_PREFIX) ? answerOps(req, res, meta, metrics) : dispatch(deps, req, res, secure);
    answer.catch((err) => {
      log.error({ err }, 'dispatch failed');
      res.destroy();
    });
  };
  server.on('request', onRequest);
  // Expect: 100-continue is answered by dispatch, once the request is authenticated and authorized and its
  // handler reads the body; a request refused before that gets its final answer and never sends the body.
  server.on('checkContinue', onRequest);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 60_000;
  server.requestTimeout = 0;
  server.timeout = config.requestTimeoutMs;
  server.maxHeadersCount = 500;
  answerClientErrors(server, log);
  const stop = async () => {
    try {
      jobs.stop();
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      await hashPool.close();
      await meta.close();
      await blobs.close();
    } finally {
      abandon();
    }
  };
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(config.port, config.host, () => ok());
  }).catch(async (e) => {
    await stop();
    throw e;
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${secure ? 'https' : 'http'}://${hostForUrl}:${port}`;

  let closed = false;
  return {
    url, host: config.host, port, region: config.region, accessKeyId: config.rootAccessKey, secretAccessKey: config.rootSecretKey,
    dataDir: config.dataDir, deps, jobs,
    async close() {
      if (closed) return;
      closed = true;
      await stop();
    },
  };
}
