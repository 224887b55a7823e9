#!/usr/bin/env node
import { Command } from 'commander';
import { pino } from 'pino';
import { resolveConfig, type Config } from './config.js';
import { startServer } from './server.js';
import { adminCommand } from './admin/cli.js';

/** The `tessera` command: `tessera serve` runs the server in the foreground. */
const program = new Command('tessera').description('Tessera: an S3-compatible object store');

program
  .command('serve', { isDefault: true })
  .description('run the server')
  .option('--config <file>', 'JSON config file (TESSERA_CONFIG)')
  .option('--host <host>', 'address to listen on (TESSERA_HOST)')
  .option('--port <port>', 'port to listen on (TESSERA_PORT)')
  .option('--data-dir <dir>', 'data directory (TESSERA_DATA_DIR)')
  .option('--log-level <level>', 'log level: trace, debug, info, warn, error (TESSERA_LOG_LEVEL)')
  .option('--region <region>', 'region reported for buckets (TESSERA_REGION)')
  .option('--domains <list>', 'comma-separated domains for virtual-hosted-style requests (TESSERA_DOMAINS)')
  .option('--root-access-key <key>', 'root access key id (TESSERA_ROOT_ACCESS_KEY)')
  .option('--root-secret-key <key>', 'root secret access key (TESSERA_ROOT_SECRET_KEY)')
  .option('--root-account-id <id>', '12-digit account id of the root account (TESSERA_ROOT_ACCOUNT_ID)')
  .option('--root-canonical-id <id>', 'canonical user id of the root account (TESSERA_ROOT_CANONICAL_ID)')
  .option('--tls-cert <file>', 'TLS certificate (PEM) to serve HTTPS (TESSERA_TLS_CERT)')
  .option('--tls-key <file>', 'TLS private key (PEM) (TESSERA_TLS_KEY)')
  .option('--min-part-size <bytes>', 'smallest multipart part but the last (TESSERA_MIN_PART_SIZE)')
  .option('--allow-insecure-sse-c', 'accept SSE-C over plain HTTP (TESSERA_ALLOW_INSECURE_SSE_C)')
  .option('--accounts-file <file>', 'JSON accounts file applied at start (TESSERA_ACCOUNTS_FILE)')
  .option('--meta <store>', 'metadata store: sqlite (in the data directory) or postgres (TESSERA_META)')
  .option('--postgres-url <url>', 'PostgreSQL URL for --meta postgres (TESSERA_POSTGRES_URL)')
  .option('--bucket-defaults <mode>', 'what new buckets get: aws (ACLs disabled, public access blocked) or legacy (ObjectWriter, nothing blocked) (TESSERA_BUCKET_DEFAULTS)')
  .option('--master-key-file <file>', 'SSE-S3 master key, 32 bytes in base64 (TESSERA_MASTER_KEY_FILE); default: generated in the data directory')
  .action(async (opts: Record<string, unknown>) => {
    const config: Config = resolveConfig(opts as Partial<Record<keyof Config, unknown>> & { config?: string });
    const log = pino({ level: config.logLevel });
    const server = await startServer({ ...config, logger: log });
    const usingDefaults = config.rootAccessKey === 'tessera-root';
    process.stdout.write(
      `Tessera listening on ${server.url}\n` +
        `  data directory: ${server.dataDir}\n` +
        `  metadata:       ${config.meta === 'postgres' ? `postgres ${redactedUrl(config.postgresUrl)}` : 'sqlite'}\n` +
        `  region:         ${server.region}\n` +
        `  access key:     ${server.accessKeyId}\n` +
        `  secret key:     ${server.secretAccessKey}${usingDefaults ? '   (development default: set TESSERA_ROOT_ACCESS_KEY / TESSERA_ROOT_SECRET_KEY)' : ''}\n` +
        `  account id:     ${config.rootAccountId}\n` +
        `  canonical id:   ${config.rootCanonicalId}\n`,
    );
    const stop = async () => {
      await server.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

/** A PostgreSQL URL as printed: never its password. */
function redactedUrl(url: string | undefined): string {
  if (!url) return '(PG* environment)';
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(url)';
  }
}

program.addCommand(adminCommand());

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`tessera: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
