import type { AccessKeyRow, AccountRow, BlobRow, BucketRow, PartRow, UploadRow, VersionRow } from '../types.js';

/** A row as better-sqlite3 returns it: snake_case columns; JSON columns as TEXT. */
export type Row = Record<string, any>;

export function toVersion(r: Row): VersionRow {
  return {
    bucket: r.bucket, key: r.key, versionId: r.version_id, seq: r.seq, isLatest: r.is_latest === 1,
    deleteMarker: r.delete_marker === 1, size: r.size, etag: r.etag, lastModified: r.last_modified,
    manifest: JSON.parse(r.manifest), meta: JSON.parse(r.meta),
  };
}
export function toBucket(r: Row): BucketRow {
  return { name: r.name, id: r.id, ownerId: r.owner_id, createdAt: r.created_at, region: r.region, versioning: r.versioning, config: JSON.parse(r.config) };
}
export function toUpload(r: Row): UploadRow {
  return { uploadId: r.upload_id, bucket: r.bucket, key: r.key, initiated: r.initiated, meta: JSON.parse(r.meta) };
}
export function toPart(r: Row): PartRow {
  return {
    uploadId: r.upload_id, partNumber: r.part_number, size: r.size, etag: r.etag, lastModified: r.last_modified,
    manifest: JSON.parse(r.manifest), meta: JSON.parse(r.meta),
  };
}
export function toAccount(r: Row): AccountRow {
  return { accountId: r.account_id, canonicalId: r.canonical_id, displayName: r.display_name, email: r.email ?? undefined, createdAt: r.created_at };
}
export function toKey(r: Row): AccessKeyRow {
  return { accessKeyId: r.access_key_id, accountId: r.account_id, secret: r.secret, status: r.status, createdAt: r.created_at };
}
export function toBlob(r: Row): BlobRow {
  return { id: r.id, size: r.size, md5: r.md5 ?? undefined, crc64nvme: r.crc64nvme ?? undefined, refs: r.refs, inline: r.inline ?? undefined };
}
