/**
 * Shared machinery for the real-client scenarios (AWS CLI, boto3, s3cmd,
 * rclone): a live server over plain HTTP or HTTPS with a self-signed
 * certificate made at test start, deterministic fixture files made once and
 * reused, an async process runner (the server runs in this process, so a
 * client must never be run synchronously), and the expected multipart ETag.
 *
 * A client whose binary is absent is skipped with a message on a developer's
 * machine; under CI (`process.env.CI`) its tests run and fail instead, so a
 * broken install step can never pass as green.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RunningServer } from '../../src/index.js';
import { client, startTestServer } from '../helpers.js';

export const MiB = 1024 * 1024;
export const PROTOCOLS = ['http', 'https'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

// ---------------------------------------------------------------- clients

function onPath(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

/** The Python interpreter that can import boto3 (pip's or Debian's python3-boto3), if any. */
export const PYTHON_WITH_BOTO3: string | undefined = ['python3', '/usr/bin/python3'].find(
  (py) => spawnSync(py, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0,
);

const PRESENT: Record<string, boolean> = {
  aws: onPath('aws'),
  boto3: PYTHON_WITH_BOTO3 !== undefined,
  s3cmd: onPath('s3cmd'),
  rclone: onPath('rclone'),
  openssl: onPath('openssl'),
};

/**
 * `describe` options for a client's suite: skipped with a clear message when
 * the client is missing on a developer machine, never skipped under CI.
 */
export function needs(...names: (keyof typeof PRESENT)[]): { skip: string | false } {
  const missing = names.filter((n) => !PRESENT[n]);
  if (missing.length === 0 || process.env.CI) return { skip: false };
  return { skip: `${missing.join(', ')} not installed (apt-get install awscli python3-boto3 s3cmd rclone openssl)` };
}

/** Fails with a clear message when a client is missing (reached only under CI). */
export function assertPresent(...names: (keyof typeof PRESENT)[]): void {
  const missing = names.filter((n) => !PRESENT[n]);
  if (missing.length) throw new Error(`${missing.join(', ')} not installed: .ci/run must install it`);
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a client asynchronously (the server answers from this event loop) and
 * resolves with its output; rejects with that output on a non-zero exit or
 * after `timeoutMs`.
 */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 180_000;
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { env: opts.env ?? cleanEnv(), cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout = (stdout + d).slice(-200_000)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-20_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return ok({ stdout, stderr });
      const why = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ` (timeout ${timeoutMs} ms?)` : ''}` : `exit ${code}`;
      fail(new Error(`${cmd} ${args.join(' ')}: ${why}\n--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`));
    });
  });
}

/** This process's environment without any AWS_* or RCLONE_* setting that could point a client elsewhere. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(AWS_|RCLONE_|S3CMD)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

// ---------------------------------------------------------------- fixtures

const FIXTURE_DIR = join(tmpdir(), 'tessera-client-fixtures-v1');

/**
 * A file of `size` pseudo-random bytes (AES-CTR keystream of `seed`), made
 * once per machine and reused: every run sees the same bytes, and no two
 * offsets repeat, so a misplaced range cannot go unnoticed.
 */
export async function fixture(name: string, size: number): Promise<string> {
  mkdirSync(FIXTURE_DIR, { recursive: true });
  const path = join(FIXTURE_DIR, `${name}-${size}.bin`);
  if (existsSync(path) && statSync(path).size === size) return path;
  const tmp = `${path}.${process.pid}.tmp`;
  const key = createHash('sha256').update(name).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const out = createWriteStream(tmp);
  const zeros = Buffer.alloc(MiB);
  for (let left = size; left > 0; left -= MiB) {
    const chunk = cipher.update(left >= MiB ? zeros : zeros.subarray(0, left));
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await finished(out);
  renameSync(tmp, path);
  return path;
}

/** SHA-256 (hex) of a file's bytes. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * The ETag S3 gives a multipart object uploaded in parts of `partSize`:
 * MD5 of the concatenated binary part MD5s, then `-N`, quoted.
 */
export async function multipartEtag(path: string, partSize: number): Promise<string> {
  const md5s: Buffer[] = [];
  let part = createHash('md5');
  let inPart = 0;
  for await (const raw of createReadStream(path, { highWaterMark: MiB })) {
    let chunk = raw as Buffer;
    while (chunk.length) {
      const take = Math.min(chunk.length, partSize - inPart);
      part.update(chunk.subarray(0, take));
      inPart += take;
      chunk = chunk.subarray(take);
      if (inPart === partSize) {
        md5s.push(part.digest());
        part = createHash('md5');
        inPart = 0;
      }
    }
  }
  if (inPart > 0) md5s.push(part.digest());
  return `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${md5s.length}"`;
}

// ---------------------------------------------------------------- servers

export interface ClientServer {
  protocol: Protocol;
  server: RunningServer;
  /** PEM file the clients must trust (HTTPS only). */
  caFile?: string;
  /** host:port of the endpoint. */
  hostPort: string;
  /** A scratch directory for this suite, removed by close(). */
  dir: string;
  /** An SDK client that trusts the certificate, for checks the clients cannot make. */
  s3: S3Client;
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { timeoutMs: 30_000 });
  return { cert, key };
}

/** A live server for a client suite, over `protocol`. */
export async function clientServer(protocol: Protocol): Promise<ClientServer> {
  const dir = mkdtempSync(join(tmpdir(), `tessera-clients-${protocol}-`));
  let tls: { cert: string; key: string } | undefined;
  if (protocol === 'https') tls = await selfSignedCert(dir);
  const server = await startTestServer({ port: 0, host: '127.0.0.1', jobIntervalMs: 0, ...(tls ? { tlsCert: tls.cert, tlsKey: tls.key } : {}) });
  const s3 = client(server, tls ? { requestHandler: { httpsAgent: new Agent({ ca: readFileSync(tls.cert) }) } } : {});
  return {
    protocol, server, caFile: tls?.cert, hostPort: `127.0.0.1:${server.port}`, dir, s3,
    async close() {
      s3.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The stored ETag of an object (quoted), read with the SDK. */
export async function etagOf(cs: ClientServer, bucket: string, key: string, versionId?: string): Promise<string | undefined> {
  return (await cs.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).ETag;
}

/** Writes a text file in the suite's directory and returns its path. */
export function writeScratch(cs: ClientServer, name: string, text: string | Buffer): string {
  const path = join(cs.dir, name);
  writeFileSync(path, text);
  return path;
}

let n = 0;
/** A fresh bucket name for a client scenario. */
export function bucket(tag: string): string {
  return `${tag}-${process.pid}-${(n++).toString(36)}-${Date.now().toString(36)}`.toLowerCase();
}
