import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { resolveConfig, type Config } from '../config.js';
import type { MetaStore } from '../meta/types.js';
import { openMetaStore } from '../stores.js';
import { addAccount, createKey, removeAccount, revokeKey } from '../engine/accounts/manage.js';
import { SecretBox } from '../crypto/secrets.js';

/**
 * `tessera admin`: account and key management. It opens the metadata store a
 * running server uses, as configured (`meta`: the SQLite file of the data
 * directory, where WAL lets both work at once, or the PostgreSQL database at
 * `postgresUrl`), and the data directory's secret key; a running server sees
 * every change with its next request (PostgreSQL: see the store's
 * accountsGeneration for the bound on other gateways).
 * Output is JSON, one document per command, so scripts can read it; a new
 * secret is printed once, by `key create`, and never stored in clear.
 */
export function adminCommand(): Command {
  const admin = new Command('admin').description('manage accounts and access keys in a data directory');
  const account = admin.command('account').description('accounts: add, list, remove');
  const key = admin.command('key').description('access keys: create, revoke');

  withStore(account.command('add').description('add an account (ids generated unless given)'))
    .option('--account-id <id>', '12-digit account id')
    .option('--canonical-id <id>', 'canonical user id (64 hex digits)')
    .option('--display-name <name>', 'display name')
    .option('--email <address>', 'email address (for grants by email)')
    .option('--with-key', 'also create an access key for it')
    .action(run(async (store, opts) => {
      const row = await addAccount(store.meta, { accountId: opts.accountId, canonicalId: opts.canonicalId, displayName: opts.displayName, email: opts.email });
      const out: Record<string, unknown> = { accountId: row.accountId, canonicalId: row.canonicalId, displayName: row.displayName, email: row.email };
      if (opts.withKey) out.key = await createKey(store.meta, store.box(), row.accountId);
      return out;
    }));

  withStore(account.command('list').description('list accounts and their keys (never secrets)')).action(run(async (store) => {
    const snap = await store.meta.loadAccounts();
    return snap.accounts.map((a) => ({
      accountId: a.accountId, canonicalId: a.canonicalId, displayName: a.displayName, email: a.email,
      keys: snap.keys.filter((k) => k.accountId === a.accountId).map((k) => ({ accessKeyId: k.accessKeyId, status: k.status, created: new Date(k.createdAt).toISOString() })),
    }));
  }));

  withStore(account.command('remove').description('remove an account that owns no buckets; its keys are revoked').argument('<accountId>'))
    .action(run(async (store, _opts, accountId) => {
      await removeAccount(store.meta, accountId!);
      return { removed: accountId };
    }));

  withStore(key.command('create').description('create an access key for an account').argument('<accountId>'))
    .option('--access-key-id <id>', 'the key id (generated unless given)')
    .option('--secret-access-key <secret>', 'the secret (generated unless given)')
    .action(run(async (store, opts, accountId) => createKey(store.meta, store.box(), accountId!, opts.accessKeyId, opts.secretAccessKey)));

  withStore(key.command('revoke').description('revoke an access key: refused at once, across restarts').argument('<accessKeyId>'))
    .action(run(async (store, _opts, accessKeyId) => {
      const root = accessKeyId === store.config.rootAccessKey ? store.config.rootAccountId : undefined;
      await revokeKey(store.meta, accessKeyId!, root);
      return { revoked: accessKeyId };
    }));

  return admin;
}

function withStore(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'JSON config file (TESSERA_CONFIG)')
    .option('--data-dir <dir>', 'data directory (TESSERA_DATA_DIR)')
    .option('--meta <store>', 'metadata store: sqlite (in the data directory) or postgres (TESSERA_META)')
    .option('--postgres-url <url>', 'PostgreSQL URL for --meta postgres (TESSERA_POSTGRES_URL)')
    .option('--root-access-key <key>', 'root access key id (TESSERA_ROOT_ACCESS_KEY)')
    .option('--root-account-id <id>', 'root account id (TESSERA_ROOT_ACCOUNT_ID)');
}

interface Store {
  config: Config;
  meta: MetaStore;
  box(): SecretBox;
}

type Action = (store: Store, opts: Record<string, any>, arg?: string) => Promise<unknown>;

/** Opens the configured metadata store, runs the action, prints its result as JSON, closes the store. */
function run(action: Action) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const opts = cmd.opts();
    const config = resolveConfig({
      dataDir: opts.dataDir, meta: opts.meta, postgresUrl: opts.postgresUrl, rootAccessKey: opts.rootAccessKey, rootAccountId: opts.rootAccountId, config: opts.config,
    });
    const dataDir = resolve(config.dataDir);
    mkdirSync(dataDir, { recursive: true });
    // Opened as a server opens it (stores.ts), but without the data directory lock: admin runs beside a server.
    const meta = await openMetaStore({ ...config, dataDir }, { poolMax: 2 });
    let box: SecretBox | undefined;
    try {
      const out = await action({ config, meta, box: () => (box ??= SecretBox.open(dataDir)) }, opts, typeof args[0] === 'string' ? args[0] : undefined);
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    } finally {
      await meta.close();
    }
  };
}
