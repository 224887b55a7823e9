import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { MetaStore } from '../../meta/types.js';
import { accountRow, checkKeyShape, upsertAccount } from './manage.js';
import type { SecretBox } from '../../crypto/secrets.js';

/**
 * The accounts file (`--accounts-file`, `TESSERA_ACCOUNTS_FILE`): accounts
 * provisioned declaratively at start, so deployments and test harnesses need
 * no CLI session. JSON, either a list or `{"accounts": [...]}`:
 *
 *     [{ "accountId": "111122223333",
 *        "canonicalId": "<64 hex>",            (optional: generated once)
 *        "displayName": "alice", "email": "alice@example.com",
 *        "keys": [{ "accessKeyId": "...", "secretAccessKey": "..." }] }]
 *
 * Applying it inserts or updates each account and key; accounts and keys it
 * does not name are left alone, and a key revoked earlier stays revoked. An
 * entry holding the configured root access key describes the root account:
 * its ids and names replace the configured ones (its secret must equal the
 * configured root secret, which stays the source of truth).
 */
export interface AccountsFileKey {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface AccountsFileEntry {
  accountId: string;
  canonicalId?: string;
  displayName?: string;
  email?: string;
  keys: AccountsFileKey[];
}

function fail(path: string, what: string): never {
  throw new Error(`accounts file ${path}: ${what}`);
}

function str(path: string, where: string, v: unknown, optional: boolean): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string') fail(path, `${where} must be a string`);
  return v;
}

export function readAccountsFile(path: string): AccountsFileEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    fail(path, e instanceof SyntaxError ? 'not valid JSON' : (e as Error).message);
  }
  const list = Array.isArray(doc) ? doc : (doc as { accounts?: unknown })?.accounts;
  if (!Array.isArray(list)) fail(path, 'expected a list of accounts, or {"accounts": [...]}');
  return list.map((raw, i) => {
    const where = `accounts[${i}]`;
    if (typeof raw !== 'object' || raw === null) fail(path, `${where} must be an object`);
    const e = raw as Record<string, unknown>;
    const keys = e.keys ?? [];
    if (!Array.isArray(keys)) fail(path, `${where}.keys must be a list`);
    return {
      accountId: str(path, `${where}.accountId`, e.accountId, false)!,
      canonicalId: str(path, `${where}.canonicalId`, e.canonicalId, true),
      displayName: str(path, `${where}.displayName`, e.displayName, true),
      email: str(path, `${where}.email`, e.email, true),
      keys: keys.map((k: unknown, j: number) => {
        const kw = `${where}.keys[${j}]`;
        if (typeof k !== 'object' || k === null) fail(path, `${kw} must be an object`);
        const kk = k as Record<string, unknown>;
        return { accessKeyId: str(path, `${kw}.accessKeyId`, kk.accessKeyId, false)!, secretAccessKey: str(path, `${kw}.secretAccessKey`, kk.secretAccessKey, false)! };
      }),
    };
  });
}

/** The root account: configuration, renamed by an accounts-file entry that holds the root access key. */
export function rootIdentity(config: Config, entries: AccountsFileEntry[]) {
  const e = entries.find((x) => x.keys.some((k) => k.accessKeyId === config.rootAccessKey));
  return {
    accountId: e?.accountId ?? config.rootAccountId,
    canonicalId: e?.canonicalId ?? config.rootCanonicalId,
    displayName: e?.displayName ?? config.rootDisplayName,
    email: e?.email,
  };
}

export interface ApplyArgs {
  meta: MetaStore;
  box: SecretBox;
  config: Config;
  root: { accountId: string; canonicalId: string; displayName: string; email?: string };
  entries: AccountsFileEntry[];
  log?: Logger;
}

/** Records the root account and applies the file's entries to the store. */
export async function applyAccountsFile(a: ApplyArgs): Promise<void> {
  const where = a.config.accountsFile ?? '(none)';
  const rootRow = accountRow(a.root);
  await upsertAccount(a.meta, rootRow);
  const seen = new Set<string>();
  for (const e of a.entries) {
    let row;
    try {
      row = accountRow({ ...e, canonicalId: e.canonicalId ?? (await existingCanonical(a.meta, e.accountId)) });
    } catch (err) {
      fail(where, (err as Error).message);
    }
    if (row.accountId !== rootRow.accountId) await upsertAccount(a.meta, row);
    for (const k of e.keys) {
      if (seen.has(k.accessKeyId)) fail(where, `access key ${k.accessKeyId} is listed twice`);
      seen.add(k.accessKeyId);
      if (k.accessKeyId === a.config.rootAccessKey) {
        if (k.secretAccessKey !== a.config.rootSecretKey) fail(where, `the secret of the root access key ${k.accessKeyId} differs from the configured root secret key`);
        continue;
      }
      try {
        checkKeyShape(k.accessKeyId, k.secretAccessKey);
      } catch (err) {
        fail(where, (err as Error).message);
      }
      await applyKey(a, where, row.accountId, k);
    }
  }
}

async function existingCanonical(meta: MetaStore, accountId: string): Promise<string | undefined> {
  const { accounts } = await meta.loadAccounts();
  return accounts.find((x) => x.accountId === accountId)?.canonicalId;
}

async function applyKey(a: ApplyArgs, where: string, accountId: string, k: AccountsFileKey): Promise<void> {
  const { keys } = await a.meta.loadAccounts();
  const existing = keys.find((x) => x.accessKeyId === k.accessKeyId);
  if (existing?.status === 'Revoked') {
    a.log?.warn({ accessKeyId: k.accessKeyId }, 'accounts file names a revoked access key; it stays revoked');
    return;
  }
  if (existing && existing.accountId !== accountId) fail(where, `access key ${k.accessKeyId} belongs to account ${existing.accountId}, not ${accountId}`);
  if (existing && a.box.open(k.accessKeyId, existing.secret) === k.secretAccessKey) return;
  await a.meta.putAccessKey({
    accessKeyId: k.accessKeyId, accountId, secret: a.box.seal(k.accessKeyId, k.secretAccessKey), status: 'Active', createdAt: existing?.createdAt ?? Date.now(),
  });
}
