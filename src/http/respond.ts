import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Error, isS3Error, type ErrorFields } from '../errors.js';
import { BucketGone } from '../meta/types.js';
import type { Headers, S3Response } from '../api/context.js';
import { escapeXml } from '../api/xml.js';

/** The `<Error>` document: Code, Message, the error's own fields, Resource, RequestId, HostId. */
/**
 * The S3 error a failure is, or undefined when it is an internal one: the
 * store's typed failures that mean something to the client become their S3
 * error here, once (a write into a bucket that went while it ran: NoSuchBucket).
 */
export function s3ErrorOf(e: unknown): S3Error | undefined {
  if (isS3Error(e)) return e;
  if (e instanceof BucketGone) return new S3Error('NoSuchBucket', undefined, { BucketName: e.bucket });
  return undefined;
}

export function errorXml(err: S3Error, resource: string | undefined, requestId: string, hostId: string): string {
  const fields: ErrorFields = { ...err.fields };
  const parts = [`<Code>${err.code}</Code>`, `<Message>${escapeXml(err.message)}</Message>`];
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) parts.push(`<${k}>${escapeXml(String(v))}</${k}>`);
  if (resource !== undefined) parts.push(`<Resource>${escapeXml(resource)}</Resource>`);
  parts.push(`<RequestId>${requestId}</RequestId>`, `<HostId>${hostId}</HostId>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${parts.join('')}</Error>`;
}

export function errorResponse(err: S3Error, resource: string | undefined, requestId: string, hostId: string, head: boolean): S3Response {
  const body = head || err.status === 304 ? undefined : errorXml(err, resource, requestId, hostId);
  return { status: err.status, headers: { 'content-type': 'application/xml', ...err.headers }, body };
}

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
