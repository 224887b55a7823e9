import { randomBytes, randomInt } from 'node:crypto';
import type { AccessKeyRow, AccountRow, MetaStore } from '../../meta/types.js';
import type { SecretBox } from '../../crypto/secrets.js';

/**
 * Account administration over a metadata store: what `tessera admin` and the
 * accounts file do. Every function validates its input and throws an Error
 * with a message for the operator; none ever puts a secret in a message.
 */
export const ACCOUNT_ID = /^\d{12}$/;
export const CANONICAL_ID = /^[0-9a-f]{64}$/;
export const ACCESS_KEY_ID = /^[A-Za-z0-9._-]{3,128}$/;
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function newAccountId(): string {
  let id = '';
  for (let i = 0; i < 12; i++) id += String(randomInt(10));
  return id;
}

export function newCanonicalId(): string {
  return randomBytes(32).toString('hex');
}

/** 20 characters, AWS-shaped: `AKTS` and 16 base32 characters. */
export function newAccessKeyId(): string {
  let id = 'AKTS';
  for (let i = 0; i < 16; i++) id += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)];
  return id;
}

/** 40 characters of base64, as AWS secret keys. */
export function newSecretKey(): string {
  return randomBytes(30).toString('base64');
}

export interface AccountInput {
  accountId?: string;
  canonicalId?: string;
  displayName?: string;
  email?: string;
}

/** Fills in generated ids and checks the shape of an account. */
export function accountRow(input: AccountInput): AccountRow {
  const accountId = input.accountId ?? newAccountId();
  if (!ACCOUNT_ID.test(accountId)) throw new Error(`account id ${JSON.stringify(accountId)}: must be 12 digits`);
  const canonicalId = input.canonicalId ?? newCanonicalId();
  if (!CANONICAL_ID.test(canonicalId)) throw new Error(`canonical id ${JSON.stringify(canonicalId)}: must be 64 lower-case hex digits`);
  const displayName = input.displayName ?? accountId;
  if (displayName.length < 1 || displayName.length > 256) throw new Error('display name: 1 to 256 characters');
  return { accountId, canonicalId, displayName, email: input.email || undefined, createdAt: Date.now() };
}

export function checkKeyShape(accessKeyId: string, secret: string): void {
  if (!ACCESS_KEY_ID.test(accessKeyId)) throw new Error(`access key id ${JSON.stringify(accessKeyId)}: 3 to 128 letters, digits, '.', '_' or '-'`);
  if (secret.length < 8 || secret.length > 256) throw new Error(`access key ${accessKeyId}: the secret must be 8 to 256 characters`);
}

/** A canonical id already used by another account is refused (grants name accounts by it). */
async function checkCanonicalFree(meta: MetaStore, row: AccountRow): Promise<void> {
  const { accounts } = await meta.loadAccounts();
  const other = accounts.find((a) => a.canonicalId === row.canonicalId && a.accountId !== row.accountId);
  if (other) throw new Error(`canonical id ${row.canonicalId} already belongs to account ${other.accountId}`);
}

/** `tessera admin account add`: a new account; refuses an account id that exists. */
export async function addAccount(meta: MetaStore, input: AccountInput): Promise<AccountRow> {
  const row = accountRow(input);
  await checkCanonicalFree(meta, row);
  await meta.putAccount(row, (existing) => {
    if (existing) throw new Error(`account ${row.accountId} already exists`);
  });
  return row;
}

/** Inserts or updates an account (accounts file); keeps the creation time of an existing one. */
export async function upsertAccount(meta: MetaStore, row: AccountRow): Promise<void> {
  const { accounts } = await meta.loadAccounts();
  const existing = accounts.find((a) => a.accountId === row.accountId);
  if (existing && existing.canonicalId === row.canonicalId && existing.displayName === row.displayName && existing.email === row.email) return;
  await checkCanonicalFree(meta, row);
  await meta.putAccount({ ...row, createdAt: existing?.createdAt ?? row.createdAt });
}

/** `tessera admin account remove`: refuses while the account owns buckets; its keys are revoked. */
export async function removeAccount(meta: MetaStore, accountId: string): Promise<void> {
  const owned = await meta.listBuckets(accountId);
  if (owned.length > 0) throw new Error(`account ${accountId} owns ${owned.length} bucket(s) (${owned.slice(0, 3).map((b) => b.name).join(', ')}): delete them first`);
  if (!(await meta.deleteAccount(accountId))) throw new Error(`no account ${accountId}`);
}

/**
 * `tessera admin key create`: a new active key for an existing account. An
 * id that was ever used (revoked keys included) is refused.
 */
export async function createKey(meta: MetaStore, box: SecretBox, accountId: string, accessKeyId = newAccessKeyId(), secret = newSecretKey()) {
  checkKeyShape(accessKeyId, secret);
  const { accounts } = await meta.loadAccounts();
  if (!accounts.some((a) => a.accountId === accountId)) throw new Error(`no account ${accountId}`);
  const row: AccessKeyRow = { accessKeyId, accountId, secret: box.seal(accessKeyId, secret), status: 'Active', createdAt: Date.now() };
  await meta.putAccessKey(row, (existing) => {
    if (existing) throw new Error(`access key ${accessKeyId} already exists${existing.status === 'Revoked' ? ' (revoked; ids are never reused)' : ''}`);
  });
  return { accessKeyId, secretAccessKey: secret, accountId };
}

/**
 * `tessera admin key revoke`: the key stops working at once in every server
 * on this store, and stays revoked across restarts (its row is kept as a
 * tombstone without the secret). `owner` names the account of a key the store
 * does not hold (the configured root key).
 */
export async function revokeKey(meta: MetaStore, accessKeyId: string, owner?: string): Promise<void> {
  const { keys } = await meta.loadAccounts();
  const existing = keys.find((k) => k.accessKeyId === accessKeyId);
  if (!existing && owner === undefined) throw new Error(`no access key ${accessKeyId}`);
  if (existing?.status === 'Revoked') return;
  await meta.putAccessKey({ accessKeyId, accountId: existing?.accountId ?? owner!, secret: '', status: 'Revoked', createdAt: existing?.createdAt ?? Date.now() });
}
