import { readFileSync } from 'node:fs';

/**
 * Server configuration. Sources, strongest first: command-line flags,
 * `TESSERA_*` environment variables, a JSON config file (`--config` /
 * `TESSERA_CONFIG`), then these defaults. Operators script against the flag
 * and variable names: keep them stable.
 */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  logLevel: string;
  region: string;
  /** Domains for virtual-hosted-style requests (`<bucket>.<domain>`). */
  domains: string[];
  rootAccessKey: string;
  rootSecretKey: string;
  rootAccountId: string;
  rootCanonicalId: string;
  rootDisplayName: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Objects up to this size are stored in the metadata row. */
  inlineThreshold: number;
  /** Smallest size of every part but the last on CompleteMultipartUpload (AWS: 5 MiB). */
  minPartSize: number;
  /** How long a completed upload answers a retried Complete with the same result. */
  completeRetryWindowMs: number;
  /** A Complete or copy running longer than this answers 200 at once and keeps the connection alive with whitespace. */
  keepAliveAfterMs: number;
  /** Unreferenced blobs are deleted after this grace period. */
  blobGraceMs: number;
  /** How often background jobs (collector, lifecycle) run; 0 disables the timer. */
  jobIntervalMs: number;
  /** Delay before a RestoreObject completes. */
  restoreDelayMs: number;
  /** Allow SSE-C over plain HTTP (default: only when listening on loopback). */
  allowInsecureSseC?: boolean;
  accountsFile?: string;
  /** Idle socket timeout (RequestTimeout). */
  requestTimeoutMs: number;
  /** Metadata store: SQLite in the data directory, or PostgreSQL shared by several gateways. */
  meta: 'sqlite' | 'postgres';
  /** PostgreSQL connection URL (meta: postgres); unset, the libpq PG* environment variables apply. */
  postgresUrl?: string;
  /**
   * The SSE-S3 master key: a file holding 32 bytes in base64, which must
   * exist. Unset, Tessera generates `sse-master.key` in the data directory.
   */
  masterKeyFile?: string;
  /**
   * What a new bucket gets (chosen at CreateBucket and stored in its config;
   * existing buckets keep theirs): `aws`, as AWS since April 2023,
   * BucketOwnerEnforced (ACLs disabled) and Block Public Access on; `legacy`,
   * as AWS before, no ownership controls (ObjectWriter: ACLs honoured) and no
   * public access block, for applications that set ACLs.
   */
  bucketDefaults: 'aws' | 'legacy';
}

export const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 9000,
  dataDir: './data',
  logLevel: 'info',
  region: 'us-east-1',
  domains: ['localhost', 's3.localhost'],
  rootAccessKey: 'tessera-root',
  rootSecretKey: 'tessera-root-secret-key',
  rootAccountId: '123456789012',
  rootCanonicalId: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
  rootDisplayName: 'tessera-root',
  inlineThreshold: 64 * 1024,
  minPartSize: 5 * 1024 * 1024,
  completeRetryWindowMs: 10 * 60 * 1000,
  keepAliveAfterMs: 5000,
  blobGraceMs: 60 * 1000,
  jobIntervalMs: 60 * 1000,
  restoreDelayMs: 0,
  // AWS drops an upload that has sent nothing for about 20 s; Tessera waits longer on purpose: its users include
  // throttled backup clients and phones on bad networks whose pauses AWS's own clients ride out with retries that
  // restart a whole part, and the same timer bounds requests whose server-side work (a long hashing pass) sends
  // nothing for a while. Operators who want AWS's figure set 20000.
  requestTimeoutMs: 120 * 1000,
  meta: 'sqlite',
  bucketDefaults: 'aws',
};

/** Environment variable for each setting. */
export const ENV: Record<keyof Config, string> = {
  host: 'TESSERA_HOST',
  port: 'TESSERA_PORT',
  dataDir: 'TESSERA_DATA_DIR',
  logLevel: 'TESSERA_LOG_LEVEL',
  region: 'TESSERA_REGION',
  domains: 'TESSERA_DOMAINS',
  rootAccessKey: 'TESSERA_ROOT_ACCESS_KEY',
  rootSecretKey: 'TESSERA_ROOT_SECRET_KEY',
  rootAccountId: 'TESSERA_ROOT_ACCOUNT_ID',
  rootCanonicalId: 'TESSERA_ROOT_CANONICAL_ID',
  rootDisplayName: 'TESSERA_ROOT_DISPLAY_NAME',
  tlsCert: 'TESSERA_TLS_CERT',
  tlsKey: 'TESSERA_TLS_KEY',
  inlineThreshold: 'TESSERA_INLINE_THRESHOLD',
  minPartSize: 'TESSERA_MIN_PART_SIZE',
  completeRetryWindowMs: 'TESSERA_COMPLETE_RETRY_WINDOW_MS',
  keepAliveAfterMs: 'TESSERA_KEEP_ALIVE_AFTER_MS',
  blobGraceMs: 'TESSERA_BLOB_GRACE_MS',
  jobIntervalMs: 'TESSERA_JOB_INTERVAL_MS',
  restoreDelayMs: 'TESSERA_RESTORE_DELAY_MS',
  allowInsecureSseC: 'TESSERA_ALLOW_INSECURE_SSE_C',
  accountsFile: 'TESSERA_ACCOUNTS_FILE',
  requestTimeoutMs: 'TESSERA_REQUEST_TIMEOUT_MS',
  meta: 'TESSERA_META',
  postgresUrl: 'TESSERA_POSTGRES_URL',
  masterKeyFile: 'TESSERA_MASTER_KEY_FILE',
  bucketDefaults: 'TESSERA_BUCKET_DEFAULTS',
};

function coerce(key: keyof Config, raw: unknown): unknown {
  const def = DEFAULTS[key];
  if (key === 'domains') return Array.isArray(raw) ? raw.map(String) : String(raw).split(',').map((s) => s.trim()).filter(Boolean);
  if (key === 'allowInsecureSseC') return raw === true || /^(1|true|yes|on)$/i.test(String(raw));
  if (key === 'meta' && raw !== 'sqlite' && raw !== 'postgres') throw new Error(`meta: expected sqlite or postgres, got ${raw}`);
  if (key === 'bucketDefaults' && raw !== 'aws' && raw !== 'legacy') throw new Error(`bucketDefaults: expected aws or legacy, got ${raw}`);
  if (typeof def === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`${key}: not a number: ${raw}`);
    return n;
  }
  return String(raw);
}

/** `data-dir` (the flag's spelling) -> `dataDir`. */
function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * A JSON object of settings, named as the Config fields (`dataDir`) or as the
 * flags (`data-dir`). A file that does not parse or names an unknown setting
 * is an error, so a typo never silently falls back to a default.
 */
function readConfigFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`config file ${file}: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`config file ${file}: expected a JSON object`);
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(parsed)) {
    const k = camel(name);
    if (!(k in ENV)) throw new Error(`config file ${file}: unknown setting "${name}"`);
    out[k] = v;
  }
  return out;
}

/** Merges the sources: flags > env > file > defaults. `flags` holds only what was given. */
export function resolveConfig(flags: Partial<Record<keyof Config, unknown>> & { config?: string }, env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = { ...DEFAULTS };
  const file = flags.config ?? env.TESSERA_CONFIG;
  if (file) {
    for (const [k, v] of Object.entries(readConfigFile(file))) out[k] = coerce(k as keyof Config, v);
  }
  for (const [k, name] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') out[k] = coerce(k as keyof Config, v);
  }
  for (const [k, v] of Object.entries(flags)) if (k in ENV && v !== undefined) out[k] = coerce(k as keyof Config, v);
  return out as unknown as Config;
}

/** True when the host is a loopback address (SSE-C over HTTP is allowed there by default). */
export function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || host === 'localhost';
}
