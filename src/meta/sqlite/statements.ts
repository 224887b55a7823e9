import type { Database as DB, Statement } from 'better-sqlite3';

/** Every statement the SQLite store runs, prepared once per database (store.ts). */
export function prepareStatements(db: DB): Record<string, Statement> {
  const p = (sql: string) => db.prepare(sql);
  return {
    bucketGet: p('SELECT * FROM buckets WHERE name = ?'),
    bucketInsert: p('INSERT INTO buckets (name, id, owner_id, created_at, region, versioning, config) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    bucketId: p('SELECT id FROM buckets WHERE name = ?'),
    bucketsAll: p('SELECT * FROM buckets ORDER BY name'),
    bucketsOwned: p('SELECT * FROM buckets WHERE owner_id = ? ORDER BY name'),
    bucketHasVersions: p('SELECT 1 FROM versions WHERE bucket = ? LIMIT 1'),
    bucketUploads: p('SELECT upload_id FROM uploads WHERE bucket = ?'),
    bucketDelete: p('DELETE FROM buckets WHERE name = ?'),
    bucketUpdate: p('UPDATE buckets SET versioning = ?, config = ? WHERE name = ?'),
    latest: p('SELECT * FROM versions WHERE bucket = ? AND key = ? AND is_latest = 1'),
    byId: p('SELECT * FROM versions WHERE bucket = ? AND key = ? AND version_id = ?'),
    unsetLatest: p('UPDATE versions SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1'),
    insertVersion: p(`INSERT INTO versions (bucket, key, seq, version_id, is_latest, delete_marker, size, etag, last_modified, manifest, meta)
      VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`),
    deleteVersion: p('DELETE FROM versions WHERE bucket = ? AND key = ? AND seq = ?'),
    newestRemaining: p('SELECT seq FROM versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1'),
    setLatest: p('UPDATE versions SET is_latest = 1 WHERE bucket = ? AND key = ? AND seq = ?'),
    updateMeta: p('UPDATE versions SET meta = ? WHERE bucket = ? AND key = ? AND version_id = ?'),
    blobInsert: p('INSERT INTO blobs (id, size, md5, crc64nvme, refs, zero_since, inline) VALUES (?, ?, ?, ?, 0, ?, ?)'),
    // A tombstone (refs -1) is never referenced: a blob the reaper claimed is gone.
    blobRef: p('UPDATE blobs SET refs = refs + 1, zero_since = NULL WHERE id = ? AND refs >= 0'),
    tombstoneInsert: p('INSERT INTO blobs (id, size, refs, zero_since) VALUES (?, 0, -1, ?)'),
    tombstonesPrune: p('DELETE FROM blobs WHERE refs < 0 AND zero_since < ?'),
    blobUnref: p('UPDATE blobs SET refs = refs - 1, zero_since = CASE WHEN refs = 1 THEN ? ELSE zero_since END WHERE id = ?'),
    blobGet: p('SELECT * FROM blobs WHERE id = ?'),
    garbage: p('SELECT * FROM blobs WHERE refs = 0 AND zero_since < ? LIMIT ?'),
    blobDelete: p('DELETE FROM blobs WHERE id = ? AND refs = 0'),
    // seq: after every upload of the key still there, so initiation order survives equal clocks.
    uploadInsert: p(`INSERT INTO uploads (upload_id, bucket, key, initiated, meta, seq)
      VALUES (?, ?, ?, ?, ?, (SELECT IFNULL(MAX(seq), 0) + 1 FROM uploads WHERE bucket = ? AND key = ?))`),
    uploadGet: p('SELECT * FROM uploads WHERE upload_id = ?'),
    uploadDelete: p('DELETE FROM uploads WHERE upload_id = ?'),
    partGet: p('SELECT * FROM parts WHERE upload_id = ? AND part_number = ?'),
    partsAll: p('SELECT * FROM parts WHERE upload_id = ? ORDER BY part_number'),
    partsAfter: p('SELECT * FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?'),
    partUpsert: p(`INSERT OR REPLACE INTO parts (upload_id, part_number, size, etag, last_modified, manifest, meta) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    partsDelete: p('DELETE FROM parts WHERE upload_id = ?'),
    completedInsert: p('INSERT OR REPLACE INTO completed (upload_id, fingerprint, result, completed_at) VALUES (?, ?, ?, ?)'),
    completedGet: p('SELECT * FROM completed WHERE upload_id = ?'),
    completedPrune: p('DELETE FROM completed WHERE completed_at < ?'),
    stale: p('SELECT * FROM uploads WHERE bucket = ? AND key >= ? AND key < ? AND initiated < ? ORDER BY key, initiated'),
    accountsGen: p('SELECT generation FROM accounts_generation'),
    accountsBump: p('UPDATE accounts_generation SET generation = generation + 1'),
    accountsAll: p('SELECT * FROM accounts ORDER BY account_id'),
    accountGet: p('SELECT * FROM accounts WHERE account_id = ?'),
    accountUpsert: p('INSERT OR REPLACE INTO accounts (account_id, canonical_id, display_name, email, created_at) VALUES (?, ?, ?, ?, ?)'),
    accountDelete: p('DELETE FROM accounts WHERE account_id = ?'),
    keysAll: p('SELECT * FROM access_keys ORDER BY account_id, created_at, access_key_id'),
    keyGet: p('SELECT * FROM access_keys WHERE access_key_id = ?'),
    keyUpsert: p('INSERT OR REPLACE INTO access_keys (access_key_id, account_id, secret, status, created_at) VALUES (?, ?, ?, ?, ?)'),
    keysRevokeAccount: p(`UPDATE access_keys SET status = 'Revoked', secret = '' WHERE account_id = ?`),
  };
}
