/**
 * Raw HTTP requests against a live server, signed with the SDK's own SigV4
 * signer, for inputs the S3 client cannot produce (bad bodies, odd headers,
 * truncated uploads). Shared by the auth, robustness and object tests.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { RunningServer } from '../../src/index.js';

/** node:crypto behind the checksum interface the signer expects (HMAC when given a secret). */
class Sha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | Uint8Array) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', Buffer.from(secret as Uint8Array));
  }
  update(data: string | Uint8Array): void {
    this.h.update(typeof data === 'string' ? Buffer.from(data) : data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

export interface RawRequest {
  method: string;
  /** Raw path, already percent-encoded as it goes on the wire. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** x-amz-content-sha256; defaults to the body's SHA-256. */
  payloadHash?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  signingDate?: Date;
  /** Leave the request unsigned. */
  unsigned?: boolean;
  /** Presign instead of signing headers (expiresIn seconds). */
  presign?: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function signer(server: RunningServer, r: RawRequest): SignatureV4 {
  return new SignatureV4({
    service: 's3', region: 'us-east-1', sha256: Sha256 as any, uriEscapePath: false, applyChecksum: false,
    credentials: { accessKeyId: r.accessKeyId ?? server.accessKeyId, secretAccessKey: r.secretAccessKey ?? server.secretAccessKey },
  });
}

/** The method, full path with query and headers of a signed (or presigned) request. */
export async function signRequest(server: RunningServer, r: RawRequest): Promise<{ path: string; headers: Record<string, string> }> {
  const host = new URL(server.url).host;
  const body = r.body ?? '';
  const headers: Record<string, string> = { host, ...(r.headers ?? {}) };
  const query = { ...(r.query ?? {}) };
  if (!r.unsigned && r.presign === undefined) headers['x-amz-content-sha256'] ??= r.payloadHash ?? sha256Hex(body);
  let signedHeaders = headers;
  let signedQuery = query;
  if (!r.unsigned) {
    const s = signer(server, r);
    const req = { method: r.method, protocol: 'http:', hostname: host.split(':')[0], port: Number(host.split(':')[1]), path: r.path, query, headers, body };
    if (r.presign !== undefined) {
      // As the SDK's presigner: the payload is UNSIGNED-PAYLOAD, a value the URL itself does not carry.
      req.headers = { ...headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
      const p = await s.presign(req as any, { expiresIn: r.presign, signingDate: r.signingDate, unsignableHeaders: new Set(['x-amz-content-sha256']) });
      signedQuery = p.query as Record<string, string>;
      signedHeaders = { ...(p.headers as Record<string, string>) };
      delete signedHeaders['x-amz-content-sha256'];
    } else {
      const p = (await s.sign(req as any, { signingDate: r.signingDate })) as unknown as { headers: Record<string, string> };
      signedHeaders = p.headers as Record<string, string>;
    }
  }
  const qs = Object.entries(signedQuery)
    .map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
    .join('&');
  return { path: qs ? `${r.path}?${qs}` : r.path, headers: signedHeaders };
}

/** Sends a request with node:http and reads the whole answer. */
export async function raw(server: RunningServer, r: RawRequest): Promise<RawResponse> {
  const { path, headers } = await signRequest(server, r);
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: r.method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/** The `<Code>` of an error document, or undefined. */
export function errorCode(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}

/** The text of one element of an XML body. */
export function xmlField(body: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
}

/**
 * Opens a TCP connection and writes a request head and part of a body by
 * hand; returns the socket and a promise of everything the server answers
 * (resolved when the server closes the connection or `settleMs` passes quietly).
 */
export async function rawSocket(server: RunningServer, head: string): Promise<{ socket: Socket; answer: () => Promise<string> }> {
  const url = new URL(server.url);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((ok, fail) => {
    socket.once('connect', () => ok());
    socket.once('error', fail);
  });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((ok) => socket.once('close', () => ok()));
  socket.write(head);
  return { socket, answer: async () => {
    await closed;
    return Buffer.concat(chunks).toString('utf8');
  } };
}
