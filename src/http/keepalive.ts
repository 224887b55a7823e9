import { PassThrough } from 'node:stream';
import { S3Error } from '../errors.js';
import type { Headers, RequestContext, S3Response } from './context.js';
import { errorXml } from './respond.js';

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
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((ok) => {
    timer = setTimeout(() => ok('late'), after);
  });
  const first = await Promise.race([work.then((r) => ({ r }), (e) => ({ e })), late]);
  clearTimeout(timer);
  if (first !== 'late') {
    if ('e' in first) throw first.e;
    return { status: 200, headers: { 'content-type': 'application/xml', ...first.r.headers }, body: first.r.xml };
  }
  const body = new PassThrough();
  body.write('<?xml version="1.0" encoding="UTF-8"?>\n');
  const tick = setInterval(() => body.write(' '), TICK_MS);
  const finish = (text: string) => {
    clearInterval(tick);
    body.end(text.replace(/^<\?xml[^>]*\?>\n?/, ''));
  };
  work.then(
    (r) => finish(r.xml),
    (e) => {
      const err = e instanceof S3Error ? e : new S3Error('InternalError');
      if (!(e instanceof S3Error)) ctx.deps.log.error({ err: e, op: ctx.op, requestId: ctx.requestId }, 'internal error');
      finish(errorXml(err, ctx.resource, ctx.requestId, ctx.hostId));
    },
  );
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
};
