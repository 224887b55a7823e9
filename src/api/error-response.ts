import { S3Error, isS3Error, type ErrorFields } from '../errors.js';
import { BucketGone } from '../meta/types.js';
import type { S3Response } from './context.js';
import { escapeXml } from './xml.js';

/**
 * Errors as answers: the one place that turns a failure into an S3 error and
 * renders its `<Error>` document as the real service sends it (the error
 * table itself is src/errors.ts).
 */

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

/** The `<Error>` document: Code, Message, the error's own fields, Resource, RequestId, HostId. */
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
