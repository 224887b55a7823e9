import { S3Error } from '../errors.js';
import type { RequestContext } from './context.js';
import { contentMd5 } from './object/ingest.js';
import { createHash } from 'node:crypto';

/** Largest XML or JSON configuration body Tessera reads into memory. */
export const MAX_CONFIG_BODY = 1024 * 1024;

/**
 * Reads a small request body (XML or JSON configuration) into a string,
 * refusing anything over `limit` bytes; checks Content-MD5 when given.
 */
export async function readBody(ctx: RequestContext, limit = MAX_CONFIG_BODY): Promise<string> {
  const declared = Number(ctx.headers['x-amz-decoded-content-length'] ?? ctx.headers['content-length'] ?? 0);
  if (declared > limit) throw new S3Error('MaxMessageLengthExceeded');
  const md5 = contentMd5(ctx);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.body() as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new S3Error('MaxMessageLengthExceeded');
    chunks.push(chunk);
  }
  const buf = Buffer.concat(chunks, size);
  if (md5 && !createHash('md5').update(buf).digest().equals(md5)) throw new S3Error('BadDigest');
  return buf.toString('utf8');
}
