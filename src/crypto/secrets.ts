import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Secret access keys at rest.
 *
 * SigV4 verification needs the plaintext secret (the server derives the same
 * HMAC signing key the client did), so secrets cannot be hashed; they are
 * encrypted instead, with AES-256-GCM under a key that lives outside the
 * metadata store, in the data directory.
 *
 * The key file, `<dataDir>/accounts.key`, is one line of text:
 *
 *     tessera-accounts-key v1 <32 random bytes, base64>\n
 *
 * It is created with mode 0600 the first time a server or the admin CLI
 * needs it: written to a temporary name, fsynced, then hard-linked into
 * place, so two processes starting together agree on one key and neither
 * ever reads a half-written file. Losing the file makes every stored secret
 * unreadable (the accounts stay; new keys must be issued); copying the data
 * directory copies it.
 *
 * A sealed secret, as the `access_keys.secret` column stores it, is
 *
 *     v1.<nonce>.<ciphertext+tag>
 *
 * with both parts in base64url: a fresh 12-byte random nonce per sealing,
 * and the GCM ciphertext of the UTF-8 secret followed by its 16-byte tag.
 * The additional authenticated data is `tessera access key <accessKeyId>`,
 * so a sealed secret copied onto another key's row fails to open.
 */
export const KEY_FILE = 'accounts.key';
const HEADER = 'tessera-accounts-key v1 ';

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** Opens the data directory's key file, creating it when missing. */
  static open(dataDir: string): SecretBox {
    const path = join(dataDir, KEY_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      const existing = readKeyFile(path);
      if (existing) return new SecretBox(existing);
      createKeyFile(path);
    }
    const key = readKeyFile(path);
    if (!key) throw new Error(`${path}: not a Tessera accounts key file`);
    return new SecretBox(key);
  }

  seal(accessKeyId: string, secret: string): string {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, nonce);
    c.setAAD(aad(accessKeyId));
    const body = Buffer.concat([c.update(secret, 'utf8'), c.final(), c.getAuthTag()]);
    return `v1.${nonce.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** The plaintext, or undefined when the sealed value is not one this key made for this access key id. */
  open(accessKeyId: string, sealed: string): string | undefined {
    const [v, n, b] = sealed.split('.');
    if (v !== 'v1' || !n || !b) return undefined;
    const nonce = Buffer.from(n, 'base64url');
    const body = Buffer.from(b, 'base64url');
    if (nonce.length !== 12 || body.length < 16) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, nonce);
      d.setAAD(aad(accessKeyId));
      d.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

function aad(accessKeyId: string): Buffer {
  return Buffer.from(`tessera access key ${accessKeyId}`, 'utf8');
}

function readKeyFile(path: string): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (!text.startsWith(HEADER)) throw new Error(`${path}: not a Tessera accounts key file`);
  const key = Buffer.from(text.slice(HEADER.length).trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path}: the key is not 32 bytes`);
  return key;
}

function createKeyFile(path: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${HEADER}${randomBytes(32).toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(tmp);
  }
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
