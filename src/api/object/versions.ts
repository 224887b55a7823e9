import { createHash, randomBytes } from 'node:crypto';
import { S3Error } from '../../errors.js';
import type { BucketRow, VersionRow, WriteMode } from '../../meta/types.js';
import type { Deps } from '../context.js';

/**
 * Version ids and the versioning rules every write and read shares.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/versioning-workflows.html
 */

/**
 * A new, unguessable version id: 32 characters of `[A-Za-z0-9._]`, as AWS's
 * look. It is 20 random bytes and 4 check bytes (SHA-256 of the random ones),
 * so an id Tessera never issued (mistyped, truncated, forged) is recognised
 * as malformed without a lookup, and answered InvalidArgument as AWS does.
 */
export function newVersionId(): string {
  const random = randomBytes(20);
  return Buffer.concat([random, versionCheck(random)]).toString('base64url').replace(/-/g, '.');
}

function versionCheck(random: Buffer): Buffer {
  return createHash('sha256').update(random).digest().subarray(0, 4);
}

/** Whether `id` is a version id Tessera could have issued (or `null`). */
export function isWellFormedVersionId(id: string): boolean {
  if (id === 'null') return true;
  if (!/^[A-Za-z0-9._]{32}$/.test(id)) return false;
  const raw = Buffer.from(id.replace(/\./g, '-'), 'base64url');
  return raw.length === 24 && versionCheck(raw.subarray(0, 20)).equals(raw.subarray(20));
}

/** The id and write mode a new version gets in this bucket. */
export function writeTarget(bucket: BucketRow): { versionId: string; mode: WriteMode } {
  return bucket.versioning === 'Enabled' ? { versionId: newVersionId(), mode: 'append' } : { versionId: 'null', mode: 'replace-null' };
}

/** Whether responses carry x-amz-version-id: once versioning has ever been set. */
export function isVersioned(bucket: BucketRow): boolean {
  return bucket.versioning !== '';
}

/**
 * Validates a `versionId` query parameter as AWS does: `null` always names
 * the null version; any other id on a bucket that was never versioned, or an
 * id Tessera never issued, is 400 InvalidArgument.
 */
export function checkVersionId(bucket: BucketRow, versionId: string | null): string | undefined {
  if (versionId === null) return undefined;
  if (versionId === 'null') return versionId;
  if (!isVersioned(bucket) || !isWellFormedVersionId(versionId)) {
    throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: versionId });
  }
  return versionId;
}

/**
 * The version a request on an object reads: the current one, or a given one.
 * A named delete marker is 405 MethodNotAllowed naming the request's `method`
 * (default GET); a current one is 404 NoSuchKey, except where AWS answers it
 * as a named one too (`currentMarker: 'MethodNotAllowed'`: object tagging,
 * recorded in test_object_tagging_versioned).
 */
export async function readableVersion(
  deps: Deps, bucket: BucketRow, key: string, versionId: string | undefined,
  opts: { method?: string; currentMarker?: 'NoSuchKey' | 'MethodNotAllowed' } = {},
): Promise<VersionRow> {
  const v = await deps.meta.getVersion(bucket.name, key, versionId);
  if (!v) {
    if (versionId !== undefined) throw new S3Error('NoSuchVersion', undefined, { Key: key, VersionId: versionId });
    throw new S3Error('NoSuchKey', undefined, { Key: key });
  }
  if (v.deleteMarker) {
    const headers = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': v.versionId };
    if (versionId === undefined && opts.currentMarker !== 'MethodNotAllowed') throw new S3Error('NoSuchKey', undefined, { Key: key }, headers);
    throw new S3Error('MethodNotAllowed', undefined, { Method: opts.method ?? 'GET', ResourceType: 'DeleteMarker' }, {
      ...headers, allow: 'DELETE', 'last-modified': new Date(v.lastModified).toUTCString(),
    });
  }
  return v;
}
