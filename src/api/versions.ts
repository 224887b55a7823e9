import { randomBytes } from 'node:crypto';
import { S3Error } from '../errors.js';
import type { BucketRow, VersionRow, WriteMode } from '../meta/types.js';
import type { Deps } from '../http/context.js';

/**
 * Version ids and the versioning rules every write and read shares.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/versioning-workflows.html
 */

/** A new, unguessable version id: 32 URL-safe characters, as AWS's look. */
export function newVersionId(): string {
  return randomBytes(24).toString('base64url');
}

/** The id and write mode a new version gets in this bucket. */
export function writeTarget(bucket: BucketRow): { versionId: string; mode: WriteMode } {
  return bucket.versioning === 'Enabled' ? { versionId: newVersionId(), mode: 'append' } : { versionId: 'null', mode: 'replace-null' };
}

/** Whether responses carry x-amz-version-id: once versioning has ever been set. */
export function isVersioned(bucket: BucketRow): boolean {
  return bucket.versioning !== '';
}

const VERSION_ID = /^[A-Za-z0-9_.\-]{1,1024}$/;

/** Validates a `versionId` query parameter as AWS does. */
export function checkVersionId(bucket: BucketRow, versionId: string | null): string | undefined {
  if (versionId === null) return undefined;
  if (versionId === 'null') return versionId;
  if (!isVersioned(bucket) || !VERSION_ID.test(versionId)) {
    throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: versionId });
  }
  return versionId;
}

/**
 * The version a GET, HEAD or copy reads: the current one, or a given one.
 * A current delete marker is 404 NoSuchKey; a named delete marker is 405 (read)
 * and the caller turns it into its own error where AWS differs (copies: 400).
 */
export async function readableVersion(deps: Deps, bucket: BucketRow, key: string, versionId: string | undefined): Promise<VersionRow> {
  const v = await deps.meta.getVersion(bucket.name, key, versionId);
  if (!v) {
    if (versionId !== undefined) throw new S3Error('NoSuchVersion', undefined, { Key: key, VersionId: versionId });
    throw new S3Error('NoSuchKey', undefined, { Key: key });
  }
  if (v.deleteMarker) {
    const headers = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': v.versionId };
    if (versionId === undefined) throw new S3Error('NoSuchKey', undefined, { Key: key }, headers);
    throw new S3Error('MethodNotAllowed', undefined, { Method: 'GET', ResourceType: 'DeleteMarker' }, { ...headers, 'last-modified': new Date(v.lastModified).toUTCString() });
  }
  return v;
}
