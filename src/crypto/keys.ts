import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { deriveKek, type Kek } from './envelope.js';

/**
 * The server's own keys, kept in the data directory:
 *
 * - `sse-master.key`: the SSE-S3 master key, 32 random bytes in base64,
 *   created (mode 0600) the first time an object is encrypted with SSE-S3 or
 *   a copy rewraps a data key to it. Every SSE-S3 object is unreadable
 *   without it: back it up with the metadata, and keep the copy apart from
 *   the blobs. An operator may keep it elsewhere instead (`masterKeyFile`
 *   in the configuration, e.g. a mounted secret): that file must exist and
 *   is read, checked and never written, once, when the server starts.
 * - `sse-keyring.json`: the local keyring that SSE-KMS key ids name,
 *   `{"version":1,"keys":[{"id","material","state","description","managed"}]}`.
 *   `state` is Enabled, Disabled or PendingDeletion, as in AWS KMS. The
 *   managed default key (used by `aws:kms` without a key id, like AWS's
 *   `aws/s3`) is created on first use; operators add keys with `createKey`
 *   or by editing the file (it is re-read when an unknown id is asked for).
 *
 * Files are created with O_EXCL, so two gateways sharing a data directory
 * agree on the first key written.
 */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export interface KeyringEntry {
  id: string;
  /** base64 of 32 random bytes. */
  material: string;
  state: KeyState;
  description?: string;
  /** The default key for `aws:kms` without a key id. */
  managed?: boolean;
}

interface KeyringFile {
  version: 1;
  keys: KeyringEntry[];
}

export class ServerKeys {
  private master: Kek | undefined;
  private keyring: KeyringFile | undefined;

  private readonly configuredMasterKeyFile: string | undefined;

  /** With `masterKeyFile`, the master key is that file's, read now: a missing or malformed file fails the start. */
  constructor(private readonly dataDir: string, private readonly log: Logger, masterKeyFile?: string) {
    this.configuredMasterKeyFile = masterKeyFile ? resolve(masterKeyFile) : undefined;
    if (this.configuredMasterKeyFile) this.master = deriveKek('s', this.loadMaster());
  }

  get masterKeyFile(): string {
    return this.configuredMasterKeyFile ?? join(this.dataDir, 'sse-master.key');
  }

  get keyringFile(): string {
    return join(this.dataDir, 'sse-keyring.json');
  }

  /** The SSE-S3 KEK, from the configured file or the data directory (created on first use). */
  masterKek(): Kek {
    if (!this.master) this.master = deriveKek('s', this.loadMaster());
    return this.master;
  }

  private loadMaster(): Buffer {
    const file = this.masterKeyFile;
    if (this.configuredMasterKeyFile) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new Error(`SSE master key file ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message}`);
      }
      return decodeKey(text.trim(), `SSE master key file ${file}`);
    }
    if (!existsSync(file)) {
      try {
        writeFileSync(file, randomBytes(32).toString('base64') + '\n', { flag: 'wx', mode: 0o600 });
        this.log.warn({ file }, 'generated the SSE-S3 master key: back this file up; objects encrypted with SSE-S3 cannot be read without it');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    return decodeKey(readFileSync(file, 'utf8').trim(), file);
  }

  private readKeyring(): KeyringFile {
    if (!existsSync(this.keyringFile)) return { version: 1, keys: [] };
    const parsed = JSON.parse(readFileSync(this.keyringFile, 'utf8')) as KeyringFile;
    if (!Array.isArray(parsed.keys)) throw new Error(`${this.keyringFile}: no keys array`);
    return parsed;
  }

  private writeKeyring(k: KeyringFile): void {
    const tmp = `${this.keyringFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(k, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.keyringFile);
    this.keyring = k;
  }

  /** A keyring key by id; re-reads the file once when the id is unknown. */
  kmsKey(id: string): KeyringEntry | undefined {
    this.keyring ??= this.readKeyring();
    let hit = this.keyring.keys.find((k) => k.id === id);
    if (!hit) {
      this.keyring = this.readKeyring();
      hit = this.keyring.keys.find((k) => k.id === id);
    }
    return hit;
  }

  /** The managed default key, created on first use with a warning to back up the keyring. */
  defaultKmsKey(): KeyringEntry {
    this.keyring ??= this.readKeyring();
    const found = this.keyring.keys.find((k) => k.managed) ?? this.readKeyring().keys.find((k) => k.managed);
    if (found) return found;
    const key = this.createKey({ description: 'Default key that protects my S3 objects when no other key is defined', managed: true });
    this.log.warn({ file: this.keyringFile }, 'created the default SSE-KMS key: back the keyring file up; objects encrypted with it cannot be read without it');
    return key;
  }

  /** Adds a key to the keyring and returns it. */
  createKey(opts: { id?: string; description?: string; managed?: boolean } = {}): KeyringEntry {
    const k = this.readKeyring();
    const entry: KeyringEntry = { id: opts.id ?? randomUUID(), material: randomBytes(32).toString('base64'), state: 'Enabled' };
    if (!/^[A-Za-z0-9_-]+$/.test(entry.id)) throw new Error(`invalid keyring key id: ${entry.id}`);
    if (k.keys.some((e) => e.id === entry.id)) throw new Error(`keyring key ${entry.id} exists`);
    if (opts.description) entry.description = opts.description;
    if (opts.managed) entry.managed = true;
    k.keys.push(entry);
    this.writeKeyring(k);
    return entry;
  }

  /** Changes a key's state (disable, schedule deletion, enable again). */
  setKeyState(id: string, state: KeyState): void {
    const k = this.readKeyring();
    const e = k.keys.find((x) => x.id === id);
    if (!e) throw new Error(`no keyring key ${id}`);
    e.state = state;
    this.writeKeyring(k);
  }

  /** The SSE-KMS KEK of a keyring key, bound to an encryption context. */
  kmsKek(entry: KeyringEntry, context: string | undefined): Kek {
    return deriveKek('k', decodeKey(entry.material, `keyring key ${entry.id}`), { keyId: entry.id, context });
  }
}

function decodeKey(b64: string, what: string): Buffer {
  const key = Buffer.from(b64, 'base64');
  if (key.length !== 32) throw new Error(`${what}: expected 32 bytes of base64`);
  return key;
}
