/**
 * SQLite schema, as numbered migrations. `schema_version` holds the number of
 * the last migration applied; each runs once, in order, in one transaction.
 *
 * Keys are TEXT compared with SQLite's BINARY collation, which on a UTF-8
 * database is a memcmp of the UTF-8 bytes: exactly S3's listing order.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    region TEXT NOT NULL,
    versioning TEXT NOT NULL DEFAULT '',
    config TEXT NOT NULL DEFAULT '{}'
  );
  CREATE TABLE versions (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    version_id TEXT NOT NULL,
    is_latest INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    meta TEXT NOT NULL,
    PRIMARY KEY (bucket, key, seq)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX versions_by_id ON versions (bucket, key, version_id);
  CREATE INDEX versions_live ON versions (bucket, key) WHERE is_latest = 1 AND delete_marker = 0;
  CREATE TABLE blobs (
    id TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    md5 TEXT,
    refs INTEGER NOT NULL,
    zero_since INTEGER,
    inline BLOB
  );
  CREATE INDEX blobs_garbage ON blobs (zero_since) WHERE refs = 0;
  CREATE TABLE uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    initiated INTEGER NOT NULL,
    meta TEXT NOT NULL
  );
  CREATE INDEX uploads_by_key ON uploads (bucket, key, initiated, upload_id);
  CREATE TABLE parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    meta TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  ) WITHOUT ROWID;
  CREATE TABLE completed (
    upload_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    result TEXT NOT NULL,
    completed_at INTEGER NOT NULL
  );
  `,
  // 2: accounts and access keys (secrets sealed by api/, see crypto/secrets.ts).
  `
  CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    canonical_id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE accounts_generation (generation INTEGER NOT NULL);
  INSERT INTO accounts_generation VALUES (0);
  `,
  // 3: uploads of a key list in initiation order by a sequence, not the millisecond clock.
  `
  ALTER TABLE uploads ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
  UPDATE uploads SET seq = o.n FROM (SELECT upload_id, row_number() OVER (ORDER BY initiated, upload_id) AS n FROM uploads) AS o
    WHERE uploads.upload_id = o.upload_id;
  DROP INDEX uploads_by_key;
  CREATE INDEX uploads_by_key ON uploads (bucket, key, seq);
  `,
  // 4: a blob's CRC-64/NVME prefix checkpoints (src/util/crc-checkpoints.ts), so copies derive range checksums without reading.
  `
  ALTER TABLE blobs ADD COLUMN crc64nvme BLOB;
  `,
  // 5: a bucket's identity, so a write commits only into the bucket it was authorized for (a bucket deleted and
  // created again is another bucket); and the reaper's tombstones (refs -1, zero_since the claim), found by age.
  `
  ALTER TABLE buckets ADD COLUMN id TEXT NOT NULL DEFAULT '';
  UPDATE buckets SET id = lower(hex(randomblob(12)));
  CREATE INDEX blobs_tombstones ON blobs (zero_since) WHERE refs < 0;
  `,
];
