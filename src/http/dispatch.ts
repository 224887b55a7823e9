import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from '../errors.js';
import type { AuthResult, Authenticator, DecodedBody } from '../auth/index.js';
import type { Deps, RequestContext, S3Response } from '../api/context.js';
import type { Metrics } from './ops.js';
import { address, route, type Target } from './router.js';
import { errorResponse, s3ErrorOf } from '../api/error-response.js';
import { send } from './respond.js';
import { newRequestIds } from './request-id.js';
import { HANDLERS } from '../api/handlers.js';
import { authorize } from '../api/access/authorize.js';
import { actualRequestCors } from '../api/access/cors.js';

const MAX_KEY_BYTES = 1024;

/** Operations that act on a bucket which need not exist yet. */
const NO_BUCKET_LOOKUP = new Set(['CreateBucket', 'ListBuckets']);

function splitUrl(url: string): { rawPath: string; rawQuery: string } {
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

function targetOf(bucket: string | undefined, key: string | undefined): Target {
  return key !== undefined ? 'object' : bucket !== undefined ? 'bucket' : 'service';
}

/** What the wire layer adds to the handlers' dependencies: the authenticator and the request metrics. */
export interface ServerDeps extends Deps {
  auth: Authenticator;
  /** Request metrics for the /-/metrics endpoint. */
  metrics: Metrics;
}

/**
 * One request, start to end: address, route, authenticate, authorize,
 * resolve the bucket, run the handler, write the answer. Nothing a client
 * sends can make this throw past it: unknown failures become InternalError.
 */
export async function dispatch(deps: ServerDeps, req: IncomingMessage, res: ServerResponse, secure: boolean): Promise<void> {
  const started = performance.now();
  const { requestId, hostId } = newRequestIds();
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', hostId);
  res.setHeader('server', 'Tessera');
  const { rawPath, rawQuery } = splitUrl(req.url ?? '/');
  const head = req.method === 'HEAD';
  let op = 'Unknown';
  let resource = rawPath;
  let ctx: RequestContext | undefined;
  let response: S3Response;
  // The AbortController is made only when a handler reads ctx.signal (few do; making one costs a DOMException's
  // worth of work); a client that went away before that gets a signal that is already aborted.
  let abort: AbortController | undefined;
  let clientGone = false;
  res.on('close', () => {
    if (res.writableFinished) return;
    clientGone = true;
    abort?.abort();
  });
  let body: DecodedBody | undefined;
  let continued = false;
  let timedOut = false;
  // A body that stalls past requestTimeoutMs fails the handler's read with RequestTimeout (answered, then the
  // connection closed); with no body being read, the idle socket is simply closed.
  req.on('timeout', () => {
    if (body && !body.readableEnded && !body.destroyed) {
      timedOut = true;
      body.destroy(new S3Error('RequestTimeout'));
    } else {
      req.socket.destroy();
    }
  });
  try {
    let addr;
    try {
      addr = address(rawPath, req.headers.host, deps.config.domains);
      resource = decodeURIComponent(rawPath);
    } catch {
      throw new S3Error('InvalidURI');
    }
    const query = new URLSearchParams(rawQuery);
    const target = targetOf(addr.bucket, addr.key);
    const method = req.method ?? 'GET';
    const named = method === 'OPTIONS' ? 'PreflightRequest' : route({ method, target, query, headers: req.headers });
    if (!named) throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: target.toUpperCase() });
    op = named;
    // A preflight carries no credentials (a browser sends it before the signed request, to the same URL).
    const auth: AuthResult = op === 'PreflightRequest' ? { anonymous: true, payload: { kind: 'unsigned' } }
      : await deps.auth.authenticate({ method, rawPath, rawQuery, headers: req.headers, rawHeaders: req.rawHeaders });
    const principal = auth.credentials ? deps.accounts.account(auth.credentials.accountId) : undefined;
    if (addr.key !== undefined && Buffer.byteLength(addr.key) > MAX_KEY_BYTES) {
      throw new S3Error('KeyTooLongError', undefined, { MaxSizeAllowed: MAX_KEY_BYTES, Size: Buffer.byteLength(addr.key) });
    }
    ctx = {
      op, requestId, hostId, method, bucket: addr.bucket, key: addr.key, resource, query, headers: req.headers, secure,
      remoteAddress: req.socket.remoteAddress ?? '', auth, principal, deps,
      // Methods and getters, not arrow properties: tsx names each arrow it creates (a defineProperty per request).
      get signal() {
        if (!abort) {
          abort = new AbortController();
          if (clientGone) abort.abort();
        }
        return abort.signal;
      },
      body() {
        if (!body && !continued && expectsContinue(req)) {
          continued = true;
          res.writeContinue();
        }
        return (body ??= deps.auth.decodeBody(req, auth, req.headers));
      },
    };
    if (addr.bucket !== undefined && !NO_BUCKET_LOOKUP.has(op) && op !== 'PreflightRequest') {
      ctx.bucketRow = await deps.meta.getBucket(addr.bucket);
      if (!ctx.bucketRow) throw new S3Error('NoSuchBucket', undefined, { BucketName: addr.bucket });
    }
    await authorize(ctx);
    const handler = HANDLERS[named];
    if (!handler) throw new S3Error('NotImplemented', `${op} is not implemented by Tessera`, { Operation: op });
    response = await handler(ctx);
  } catch (e) {
    response = toErrorResponse(deps, e, resource, requestId, hostId, head, op);
  }
  if (op !== 'PreflightRequest' && req.headers.origin !== undefined) {
    const cors = actualRequestCors(ctx?.bucketRow, req.method ?? 'GET', req.headers);
    if (cors) response = { ...response, headers: { ...response.headers, ...cors } };
  }
  // A timed-out body, or one the client was told not to send (no 100 Continue): the connection cannot carry another request.
  if (timedOut || (!continued && expectsContinue(req))) res.setHeader('connection', 'close');
  try {
    await send(res, response, head);
  } catch (e) {
    deps.log.debug({ err: e, requestId }, 'response aborted');
    res.destroy();
  }
  drain(req);
  const ms = performance.now() - started;
  // The access log: one line per request at info; the object is built only when info is enabled.
  if (deps.log.isLevelEnabled('info')) {
    deps.log.info({ op, status: response.status, bucket: ctx?.bucket, key: ctx?.key, bytesIn: ctx?.bytesIn, ms: Math.round(ms * 100) / 100, requestId }, 'request');
  }
  deps.metrics.observe(op, response.status, ms, ctx?.bytesIn);
}

export function toErrorResponse(deps: Deps, e: unknown, resource: string, requestId: string, hostId: string, head: boolean, op: string): S3Response {
  const known = s3ErrorOf(e);
  if (known) return errorResponse(known, resource, requestId, hostId, head);
  deps.log.error({ err: e, op, requestId }, 'internal error');
  return errorResponse(new S3Error('InternalError'), resource, requestId, hostId, head);
}

/** A client that waits for `100 Continue` before it sends the body (Node hands such requests over through 'checkContinue'). */
function expectsContinue(req: IncomingMessage): boolean {
  return typeof req.headers.expect === 'string' && req.headers.expect.toLowerCase() === '100-continue';
}

/** Reads and discards what is left of a request body so the connection can be reused. */
function drain(req: IncomingMessage): void {
  if (!req.complete && !req.destroyed) {
    req.on('error', () => undefined);
    req.resume();
  }
}
