import { S3Error } from '../../errors.js';
import { bucketOf, type Handler } from '../context.js';
import { parseXml } from '../xml.js';
import { readBody } from '../body.js';
import { ARCHIVE_CLASSES, isRestored, metaOf, restoreOngoing } from './meta.js';
import { checkVersionId, readableVersion } from './versions.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** `<RestoreRequest><Days>N</Days>...`: the number of days the restored copy stays readable. */
function restoreDays(text: string): number {
  const { root, value } = parseXml(text);
  if (root !== 'RestoreRequest' || typeof value !== 'object') throw new S3Error('MalformedXML');
  const raw = String(value.Days ?? '');
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new S3Error('MalformedXML');
  return Number(raw);
}

/**
 * RestoreObject for the archive classes (GLACIER, DEEP_ARCHIVE): makes a
 * temporary readable copy for `Days` days. Tessera completes it at once, or
 * after `restoreDelayMs` (reported meanwhile as `x-amz-restore:
 * ongoing-request="true"`): the stored `readyAt` says when, and every reader
 * compares it with the clock, so no timer is needed and a restart changes nothing. 202 when a restore starts, 200 when an already
 * restored object only gets a new expiry, 409 RestoreAlreadyInProgress while
 * one is running. GetObject and copies of the object succeed while it is
 * restored. Nothing is moved: the data stays where it is.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreObject.html
 */
export const RestoreObject: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const versionId = checkVersionId(bucket, ctx.query.get('versionId'));
  const days = restoreDays(await readBody(ctx));
  const v = await readableVersion(ctx.deps, bucket, ctx.key!, versionId, { method: ctx.method });
  const meta = metaOf(v);
  if (!ARCHIVE_CLASSES.has(meta.storageClass ?? '')) {
    throw new S3Error('InvalidObjectState', "Restore is not allowed for the object's current storage class", { StorageClass: meta.storageClass ?? 'STANDARD' });
  }
  const now = Date.now();
  const headers = versionId !== undefined ? { 'x-amz-version-id': v.versionId } : {};
  if (isRestored(meta, now)) {
    const restore = { ongoing: false, readyAt: meta.restore!.readyAt, expiry: now + days * DAY_MS };
    await ctx.deps.meta.updateVersionMeta(bucket.name, v.key, v.versionId, { restore });
    return { status: 200, headers };
  }
  if (restoreOngoing(meta, now)) throw new S3Error('RestoreAlreadyInProgress');
  const delay = Math.max(0, ctx.deps.config.restoreDelayMs);
  const readyAt = now + delay;
  const restore = { ongoing: delay > 0, readyAt, expiry: readyAt + days * DAY_MS };
  await ctx.deps.meta.updateVersionMeta(bucket.name, v.key, v.versionId, { restore });
  return { status: 202, headers };
};
