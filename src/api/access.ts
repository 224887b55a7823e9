import { S3Error } from '../errors.js';
import type { RequestContext } from '../http/context.js';

/**
 * Decides whether the request's principal may run its operation on its
 * target. Today: signed requests by the bucket's owner are allowed; anonymous
 * requests are refused (policies and ACLs will widen this).
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
 */
export async function authorize(ctx: RequestContext): Promise<void> {
  if (ctx.op === 'PreflightRequest') return;
  if (!ctx.principal) throw new S3Error('AccessDenied');
  if (ctx.bucketRow && ctx.bucketRow.ownerId !== ctx.principal.accountId) throw new S3Error('AccessDenied');
}

/** `x-amz-expected-bucket-owner` (and the source variant) must name the owning account. */
export function checkExpectedOwner(ctx: RequestContext, header: string, ownerId: string): void {
  const v = ctx.headers[header];
  if (v !== undefined && v !== ownerId) throw new S3Error('AccessDenied');
}
