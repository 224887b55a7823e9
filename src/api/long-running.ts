import { PassThrough } from 'node:stream';
import { S3Error } from '../errors.js';
import type { Headers, RequestContext, S3Response } from './context.js';
import { errorXml, s3ErrorOf } from './error-response.js';

/** How often a long-running answer sends a space to keep the connection open. */
const TICK_MS = 1000;

/**
 * Answers an operation that may run long (CompleteMultipartUpload,
 * UploadPartCopy, CopyObject) as AWS does. If `work` settles within
 * `config.keepAliveAfterMs`, the answer is ordinary: its own status, or the
 * error's. Otherwise Tessera answers 200 at once, sends whitespace while the
 * work runs, and ends the body with the result document or an `<Error>`
 * document; clients (the AWS SDKs among them) read the body to tell which.
 * Headers the work produces after that moment cannot be sent.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 */
export async function longRunning(ctx: RequestContext, work: Promise<{ headers?: Headers; xml: string }>): Promise<S3Response> {
  const after = ctx.deps.config.keepAliveAfterMs;
  const settled = work.then((r) => ({ r }), (e: unknown) => ({ e }));
  // 0 or less: always answer the long way (lets tests exercise it).
  const first = after <= 0 ? 'late' : await Promise.race([settled, delay(after)]);
  if (first !== 'late') {
    if ('e' in first) throw first.e;
    return { status: 200, headers: { 'content-type': 'application/xml', ...first.r.headers }, body: first.r.xml };
  }
  const body = new PassThrough();
  body.write('<?xml version="1.0" encoding="UTF-8"?>\n');
  const tick = setInterval(() => body.write(' '), TICK_MS);
  void settled.then((out) => {
    clearInterval(tick);
    let text: string;
    if ('r' in out) {
      text = out.r.xml;
    } else {
      const known = s3ErrorOf(out.e);
      const err = known ?? new S3Error('InternalError');
      if (!known) ctx.deps.log.error({ err: out.e, op: ctx.op, requestId: ctx.requestId }, 'internal error');
      text = errorXml(err, ctx.resource, ctx.requestId, ctx.hostId);
    }
    body.end(text.replace(/^<\?xml[^>]*\?>\n?/, ''));
  });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
}

function delay(ms: number): Promise<'late'> {
  return new Promise((ok) => setTimeout(() => ok('late'), ms).unref());
}
