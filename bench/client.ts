/**
 * A lean signed S3 client for the benchmark: node:http with a keep-alive
 * agent and SigV4 in the Authorization header with `UNSIGNED-PAYLOAD`, so a
 * request costs the client a few microseconds instead of the 1-2 ms of CPU
 * that the AWS SDK spends (DESIGN.md, "Where the time goes"). Bodies stream
 * from a Buffer or an async iterable; answers are collected or counted.
 *
 * SigV4: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
import { createHash, createHmac } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface Endpoint {
  host: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, unless `discardBody` was asked for. */
  body: Buffer;
  /** Bytes received in the body. */
  bytes: number;
}

export interface RequestOptions {
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | AsyncIterable<Buffer>;
  /** Required with a streamed body. */
  contentLength?: number;
  /** Count the body's bytes but keep none of them (large GETs). */
  discardBody?: boolean;
}

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A path of `/bucket/key` with each segment encoded and slashes kept. */
export function objectPath(bucket: string, key?: string): string {
  return key === undefined ? `/${uriEncode(bucket)}` : `/${uriEncode(bucket)}/${key.split('/').map(uriEncode).join('/')}`;
}

export class LeanS3 {
  readonly agent: Agent;
  private keyDate = '';
  private signingKey = Buffer.alloc(0);
  private clockSecond = -1;
  private amzDate = '';

  constructor(readonly ep: Endpoint, maxSockets = 64) {
    this.agent = new Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 30_000 });
  }

  close(): void {
    this.agent.destroy();
  }

  private key(date: string): Buffer {
    if (date !== this.keyDate) {
      const h = (k: Buffer | string, v: string) => createHmac('sha256', k).update(v).digest();
      this.signingKey = h(h(h(h(`AWS4${this.ep.secretAccessKey}`, date), this.ep.region), 's3'), 'aws4_request');
      this.keyDate = date;
    }
    return this.signingKey;
  }

  /** Signs a request: returns the headers to send (host, x-amz-date, x-amz-content-sha256, authorization and the given ones). */
  sign(method: string, path: string, query: Record<string, string>, extra: Record<string, string>): Record<string, string> {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.clockSecond) {
      this.clockSecond = second;
      this.amzDate = new Date(second * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    }
    const amzDate = this.amzDate;
    const date = amzDate.slice(0, 8);
    const headers: Record<string, string> = {
      host: `${this.ep.host}:${this.ep.port}`,
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-amz-date': amzDate,
    };
    for (const [k, v] of Object.entries(extra)) headers[k.toLowerCase()] = v;
    const names = Object.keys(headers).filter((k) => k === 'host' || k.startsWith('x-amz-') || k === 'content-md5').sort();
    const canonicalQuery = Object.keys(query)
      .sort()
      .map((k) => `${uriEncode(k)}=${uriEncode(query[k])}`)
      .join('&');
    const canonical = [
      method, path, canonicalQuery,
      names.map((k) => `${k}:${headers[k].trim()}\n`).join(''),
      names.join(';'), 'UNSIGNED-PAYLOAD',
    ].join('\n');
    const scope = `${date}/${this.ep.region}/s3/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', this.key(date)).update(toSign).digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${this.ep.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
    return headers;
  }

  /** Sends one signed request; rejects on a transport error (an S3 error status is an answer). */
  send(method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
    const query = opts.query ?? {};
    const extra = { ...(opts.headers ?? {}) };
    const body = opts.body;
    if (Buffer.isBuffer(body)) extra['content-length'] = String(body.length);
    else if (body) extra['content-length'] = String(opts.contentLength ?? fail('contentLength is required with a streamed body'));
    else if (method === 'PUT' || method === 'POST') extra['content-length'] = '0';
    const headers = this.sign(method, path, query, extra);
    const qs = Object.entries(query).map(([k, v]) => (v === '' ? uriEncode(k) : `${uriEncode(k)}=${uriEncode(v)}`)).join('&');
    return new Promise((ok, reject) => {
      const req = request({ agent: this.agent, host: this.ep.host, port: this.ep.port, method, path: qs ? `${path}?${qs}` : path, headers }, (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (!opts.discardBody) chunks.push(c);
        });
        res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bytes }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (Buffer.isBuffer(body)) req.end(body);
      else if (body) pipeline(Readable.from(body, { objectMode: false }), req).catch(reject);
      else req.end();
    });
  }

  /** Like send, but rejects unless the status is 2xx. */
  async ok(method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
    const a = await this.send(method, path, opts);
    if (a.status < 200 || a.status > 299) throw new Error(`${method} ${path} -> ${a.status}: ${a.body.toString('utf8').slice(0, 500)}`);
    return a;
  }
}

function fail(msg: string): never {
  throw new Error(msg);
}

/** `size` bytes as 1 MiB chunks of `block`, without ever holding more than that block. */
export async function* generate(size: number, block: Buffer): AsyncGenerator<Buffer> {
  for (let left = size; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
}
