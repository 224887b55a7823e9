import type { Config } from '../config.js';

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

/**
 * Who is who. The root account comes from configuration; further accounts and
 * keys are added by the access-control layer.
 */
export class Accounts {
  private readonly byId = new Map<string, Account>();
  private readonly keys = new Map<string, AccessKey>();
  readonly root: Account;

  constructor(config: Config) {
    this.root = { accountId: config.rootAccountId, canonicalId: config.rootCanonicalId, displayName: config.rootDisplayName };
    this.byId.set(this.root.accountId, this.root);
    this.keys.set(config.rootAccessKey, { accessKeyId: config.rootAccessKey, secretAccessKey: config.rootSecretKey, accountId: this.root.accountId });
  }

  add(account: Account, keys: Omit<AccessKey, 'accountId'>[] = []): void {
    this.byId.set(account.accountId, account);
    for (const k of keys) this.keys.set(k.accessKeyId, { ...k, accountId: account.accountId });
  }

  key(accessKeyId: string): AccessKey | undefined {
    return this.keys.get(accessKeyId);
  }

  account(accountId: string): Account | undefined {
    return this.byId.get(accountId);
  }

  byCanonicalId(canonicalId: string): Account | undefined {
    for (const a of this.byId.values()) if (a.canonicalId === canonicalId) return a;
    return undefined;
  }
}
