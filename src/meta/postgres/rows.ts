import type { AccessKeyRow, AccountRow, BlobRow, BucketRow, NewBlob, PartRow, UploadRow, VersionRow } from '../types.js';

/**
 * Row shapes as PostgreSQL returns them, whether as a plain row or inside a
 * JSONB document built by a function (`to_jsonb(row)`): the same snake_case
 * columns, bigint as number (the pool parses int8; sizes and times stay far
 * below 2^53), JSON columns as TEXT.
 */
export type Row = Record<string, any>;

/**
 * Keys and ids as stored. PostgreSQL text cannot hold U+0000, which S3 keys
 * (and ids a client sends) may contain, so it is stored as \x01\x01, and \x01
 * as \x01\x02; nothing else changes. Each code is a prefix-free, ordered
 * replacement of one character, so the stored form sorts in the same byte
 * order and keeps prefixes: listing bounds computed on keys (`prefixEnd`)
 * hold once encoded.
 */
export function enc(s: string): string {
  return /[\0\x01]/.test(s) ? s.replace(/[\0\x01]/g, (c) => (c === '\0' ? '\x01\x01' : '\x01\x02')) : s;
}

export function dec(s: string): string {
  return s.includes('\x01') ? s.replace(/\x01([\x01\x02])/g, (_, c: string) => (c === '\x01' ? '\0' : '\x01')) : s;
}

export function toVersion(r: Row): VersionRow {
  return {
    bucket: r.bucket, key: dec(r.key), versionId: dec(r.version_id), seq: Number(r.seq), isLatest: r.is_latest,
    deleteMarker: r.delete_marker, size: Number(r.size), etag: r.etag, lastModified: Number(r.last_modified),
    manifest: JSON.parse(r.manifest), meta: JSON.parse(r.meta),
  };
}

export function toBucket(r: Row): BucketRow {
  return { name: r.name, id: r.id, ownerId: r.owner_id, createdAt: Number(r.created_at), region: r.region, versioning: r.versioning, config: JSON.parse(r.config) };
}

export function toUpload(r: Row): UploadRow {
  return { uploadId: dec(r.upload_id), bucket: r.bucket, key: dec(r.key), initiated: Number(r.initiated), meta: JSON.parse(r.meta) };
}

export function toPart(r: Row): PartRow {
  return {
    uploadId: dec(r.upload_id), partNumber: r.part_number, size: Number(r.size), etag: r.etag, lastModified: Number(r.last_modified),
    manifest: JSON.parse(r.manifest), meta: JSON.parse(r.meta),
  };
}

export function toAccount(r: Row): AccountRow {
  return { accountId: r.account_id, canonicalId: r.canonical_id, displayName: r.display_name, email: r.email ?? undefined, createdAt: Number(r.created_at) };
}

export function toKey(r: Row): AccessKeyRow {
  return { accessKeyId: r.access_key_id, accountId: r.account_id, secret: r.secret, status: r.status, createdAt: Number(r.created_at) };
}

export function toBlob(r: Row): BlobRow {
  return { id: r.id, size: Number(r.size), md5: r.md5 ?? undefined, crc64nvme: r.crc64nvme ?? undefined, refs: r.refs, inline: r.inline ?? undefined };
}

/** New blobs as the four parallel arrays `tessera_add_blobs` takes. */
export function blobArrays(blobs: NewBlob[]): [string[], number[], (string | null)[], (Buffer | null)[]] {
  return [blobs.map((b) => b.id), blobs.map((b) => b.size), blobs.map((b) => b.md5 ?? null), blobs.map((b) => b.inline ?? null)];
}

/** New blobs' CRC-64/NVME checkpoints, parallel to blobArrays' ids (`tessera_set_blob_crcs`). */
export function blobCrcs(blobs: NewBlob[]): (Buffer | null)[] {
  return blobs.map((b) => b.crc64nvme ?? null);
}
