import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Headers, S3Response } from '../api/context.js';

function setHeaders(res: ServerResponse, headers: Headers | undefined): void {
  if (!headers) return;
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) res.setHeader(k, v as string | number | string[]);
}

/** The only place that writes a response to the socket. */
export async function send(res: ServerResponse, r: S3Response, head: boolean): Promise<void> {
  res.statusCode = r.status;
  setHeaders(res, r.headers);
  const body = r.body;
  if (body === undefined) {
    if (!res.hasHeader('content-length')) res.setHeader('content-length', 0);
    res.end();
    return;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    if (!res.hasHeader('content-length')) res.setHeader('content-length', Buffer.byteLength(body));
    res.end(head ? undefined : body);
    return;
  }
  if (head) {
    body.destroy();
    res.end();
    return;
  }
  await pipeline(body as Readable, res);
}
