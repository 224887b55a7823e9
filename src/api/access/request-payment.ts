import { S3Error } from '../../errors.js';
import { bucketOf, header, type Handler, type RequestContext, type S3Response } from '../context.js';
import type { HandlerTable, Operation } from '../operations.js';
import { parseXml, xmlDocument } from '../xml.js';
import type { BucketRow } from '../../meta/types.js';
import { readBody } from '../body.js';
import { changeBucket } from '../bucket/change.js';

/**
 * Requester Pays: a bucket's `requestPayment` configuration
 * (PutBucketRequestPayment / GetBucketRequestPayment, stored in the bucket's
 * config as `{ Payer }`), and what it does to requests.
 *
 * - A request that says `x-amz-request-payer: requester` to a bucket whose
 *   Payer is `Requester` is answered with `x-amz-request-charged: requester`,
 *   on every operation whose AWS output carries RequestCharged
 *   (CHARGED_OPERATIONS). Nobody is billed: Tessera only says what AWS says.
 * - On a requester-pays bucket, an account other than the bucket owner must
 *   send that header, and anonymous requests are refused (403 AccessDenied),
 *   on every operation whose AWS input carries RequestPayer. The owner needs
 *   no header.
 *
 * All of it is applied in one place, `withRequestPayment`, which wraps the
 * handlers of those operations in the HANDLERS registry; copies also name
 * the source bucket (copy-source.ts uses `requestCharged`).
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/RequesterPaysBuckets.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ObjectsinRequesterPaysBuckets.html
 */
export type Payer = 'Requester' | 'BucketOwner';

/** The operations whose output has `RequestCharged` (the S3 API model, 2006-03-01). */
export const CHARGED_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>([
  'AbortMultipartUpload', 'CompleteMultipartUpload', 'CopyObject', 'CreateMultipartUpload', 'DeleteObject', 'DeleteObjects',
  'GetBucketAccelerateConfiguration', 'GetObject', 'GetObjectAcl', 'GetObjectAttributes', 'GetObjectTorrent', 'HeadObject',
  'ListMultipartUploads', 'ListObjects', 'ListObjectsV2', 'ListObjectVersions', 'ListParts', 'PutObject', 'PutObjectAcl',
  'PutObjectLegalHold', 'PutObjectLockConfiguration', 'PutObjectRetention', 'RestoreObject', 'UploadPart', 'UploadPartCopy',
]);

/** The operations whose input has `RequestPayer`: those a non-owner must send it with to a requester-pays bucket. */
export const PAYER_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>([
  ...CHARGED_OPERATIONS, 'GetObjectLegalHold', 'GetObjectRetention', 'GetObjectTagging', 'PutObjectTagging',
]);

export function payerOf(bucket: BucketRow): Payer {
  return (bucket.config.requestPayment as { Payer?: Payer } | undefined)?.Payer === 'Requester' ? 'Requester' : 'BucketOwner';
}

function agreesToPay(ctx: RequestContext): boolean {
  return header(ctx, 'x-amz-request-payer')?.toLowerCase() === 'requester';
}

/** `x-amz-request-charged`: only when the requester agreed to pay and a bucket involved is requester-pays. */
export function requestCharged(ctx: RequestContext, ...buckets: BucketRow[]): Record<string, string> {
  if (!agreesToPay(ctx)) return {};
  return buckets.some((b) => payerOf(b) === 'Requester') ? { 'x-amz-request-charged': 'requester' } : {};
}

/**
 * A requester-pays bucket accepts a non-owner's request only when it agrees
 * to pay, and no anonymous request. Throws 403 AccessDenied.
 */
export function checkRequesterPays(ctx: RequestContext, bucket: BucketRow): void {
  if (payerOf(bucket) !== 'Requester' || ctx.principal?.accountId === bucket.ownerId) return;
  if (!ctx.principal || !agreesToPay(ctx)) throw new S3Error('AccessDenied');
}

function charged(ctx: RequestContext, r: S3Response): S3Response {
  if (r.status >= 300) return r;
  const h = requestCharged(ctx, bucketOf(ctx));
  return h['x-amz-request-charged'] ? { ...r, headers: { ...r.headers, ...h } } : r;
}

/**
 * The registry with Requester Pays applied: the handlers of PAYER_OPERATIONS
 * check the payer first, those of CHARGED_OPERATIONS add
 * `x-amz-request-charged` to their answer. A request to a bucket that is not
 * requester-pays and names no payer goes straight to its handler.
 */
export function withRequestPayment(handlers: HandlerTable): HandlerTable {
  const out: { [Op in Operation]?: Handler } = { ...handlers };
  for (const op of PAYER_OPERATIONS) {
    const h = handlers[op];
    if (!h) continue;
    const charges = CHARGED_OPERATIONS.has(op);
    out[op] = (ctx) => {
      const bucket = bucketOf(ctx);
      if (payerOf(bucket) === 'BucketOwner') return h(ctx);
      checkRequesterPays(ctx, bucket);
      return charges ? h(ctx).then((r) => charged(ctx, r)) : h(ctx);
    };
  }
  return out;
}

function parseConfiguration(text: string): Payer {
  const { root, value } = parseXml(text);
  if (root !== 'RequestPaymentConfiguration' || typeof value !== 'object' || value === null) throw new S3Error('MalformedXML');
  const payer = value.Payer;
  if (payer !== 'Requester' && payer !== 'BucketOwner') throw new S3Error('MalformedXML');
  return payer;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketRequestPayment.html */
export const PutBucketRequestPayment: Handler = async (ctx) => {
  const Payer = parseConfiguration(await readBody(ctx, 64 * 1024));
  await changeBucket(ctx, { config: { requestPayment: { Payer } } });
  return { status: 200 };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketRequestPayment.html */
export const GetBucketRequestPayment: Handler = async (ctx) => {
  const body = xmlDocument('RequestPaymentConfiguration', { Payer: payerOf(bucketOf(ctx)) });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
};
