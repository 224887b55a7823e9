import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { AccountsSnapshot, MetaStore } from '../../meta/types.js';
import { SecretBox } from '../../crypto/secrets.js';
import { applyAccountsFile, readAccountsFile, rootIdentity } from './accounts-file.js';

/** An S3 account: the owner of buckets, the principal of signed requests. */
export interface Account {
  accountId: string;
  canonicalId: string;
  displayName: string;
  email?: string;
}

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
}

/** Where persisted accounts come from: the metadata store, secrets sealed by the data directory's key. */
interface Source {
  meta: MetaStore;
  box: SecretBox;
  log?: Logger;
}

/**
 * Who is who. The root account and its key come from configuration (an
 * accounts-file entry holding the root access key may rename it); further
 * accounts and keys live in the metadata store, managed by `tessera admin`
 * and the accounts file.
 *
 * Lookups on the request path are synchronous reads of an in-memory copy.
 * `lookup()` (the authenticator's credential lookup) first compares the
 * store's accounts generation with the copy's and reloads when another
 * process (the admin CLI) changed something, so a revoked key stops working
 * with the next request. SQLite reads the generation from the file each
 * time; PostgreSQL answers it from a cache that change notifications keep
 * current, so the check costs no round trip: a change through this server's
 * store is seen at once, another process's within `accountsMaxAgeMs` (1 s by
 * default) at worst (meta/postgres/accounts-cache.ts).
 */
export class Accounts {
  private byId = new Map<string, Account>();
  private byCanonical = new Map<string, Account>();
  private keys = new Map<string, AccessKey>();
  private generation = -1;
  private reloading: Promise<void> | undefined;

  constructor(
    readonly root: Account,
    private readonly rootKey: AccessKey,
    private readonly source?: Source,
  ) {
    this.install(undefined);
  }

  /** An in-memory directory of the configured root account only (no store). */
  static fromConfig(config: Config): Accounts {
    const root = rootIdentity(config, []);
    return new Accounts(root, { accessKeyId: config.rootAccessKey, secretAccessKey: config.rootSecretKey, accountId: root.accountId });
  }

  key(accessKeyId: string): AccessKey | undefined {
    return this.keys.get(accessKeyId);
  }

  account(accountId: string): Account | undefined {
    return this.byId.get(accountId);
  }

  byCanonicalId(canonicalId: string): Account | undefined {
    return this.byCanonical.get(canonicalId);
  }

  /** Every known account, root first. */
  list(): Account[] {
    return [...this.byId.values()];
  }

  /** The credential lookup of the authenticator: current as of the store's latest commit. */
  async lookup(accessKeyId: string): Promise<AccessKey | undefined> {
    if (this.source && (await this.source.meta.accountsGeneration()) !== this.generation) await this.reload();
    return this.keys.get(accessKeyId);
  }

  /** Re-reads accounts and keys from the store (one reload at a time). */
  reload(): Promise<void> {
    if (!this.source) return Promise.resolve();
    this.reloading ??= this.source.meta
      .loadAccounts()
      .then((snap) => this.install(snap))
      .finally(() => {
        this.reloading = undefined;
      });
    return this.reloading;
  }

  private install(snap: AccountsSnapshot | undefined): void {
    const byId = new Map<string, Account>([[this.root.accountId, this.root]]);
    const keys = new Map<string, AccessKey>([[this.rootKey.accessKeyId, this.rootKey]]);
    for (const a of snap?.accounts ?? []) {
      if (a.accountId === this.root.accountId) continue;
      byId.set(a.accountId, { accountId: a.accountId, canonicalId: a.canonicalId, displayName: a.displayName, email: a.email });
    }
    for (const k of snap?.keys ?? []) {
      if (k.status !== 'Active') {
        keys.delete(k.accessKeyId);
        continue;
      }
      if (k.accessKeyId === this.rootKey.accessKeyId || !byId.has(k.accountId)) continue;
      const secret = this.source!.box.open(k.accessKeyId, k.secret);
      if (secret === undefined) {
        this.source!.log?.warn({ accessKeyId: k.accessKeyId }, 'access key secret cannot be opened with this data directory\'s key; key ignored');
        continue;
      }
      keys.set(k.accessKeyId, { accessKeyId: k.accessKeyId, secretAccessKey: secret, accountId: k.accountId });
    }
    this.byId = byId;
    this.byCanonical = new Map([...byId.values()].map((a) => [a.canonicalId, a]));
    this.keys = keys;
    if (snap) this.generation = snap.generation;
  }
}

/**
 * The accounts of a server: opens the secret key of the data directory,
 * applies the accounts file (if configured), records the root account in the
 * store and loads everything.
 */
export async function openAccounts(config: Config, meta: MetaStore, log?: Logger): Promise<Accounts> {
  const box = SecretBox.open(config.dataDir);
  const entries = config.accountsFile ? readAccountsFile(config.accountsFile) : [];
  const root = rootIdentity(config, entries);
  await applyAccountsFile({ meta, box, config, root, entries, log });
  const accounts = new Accounts(root, { accessKeyId: config.rootAccessKey, secretAccessKey: config.rootSecretKey, accountId: root.accountId }, { meta, box, log });
  await accounts.reload();
  return accounts;
}
