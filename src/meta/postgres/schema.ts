/**
 * PostgreSQL schema, as numbered migrations: the same logical schema as the
 * SQLite store (src/meta/sqlite/schema.ts), numbered on its own.
 * `schema_version` holds the number of the last migration applied; see
 * migrate.ts for how several gateways starting at once apply them safely.
 *
 * Choices that keep the semantics of the SQLite store:
 *
 * - Every key and id column is `COLLATE "C"`: comparison is a memcmp of the
 *   UTF-8 bytes, S3's listing order, and `prefixEnd` (src/meta/keys.ts)
 *   bounds a prefix scan exactly as in SQLite.
 * - Manifests, meta, bucket config and Complete results are JSON kept as
 *   TEXT, so they read back byte for byte as written (JSONB would reorder
 *   object keys); SQL parses them (`::jsonb`) only to find blob ids.
 * - `seq` comes from one sequence, taken while the key is locked, so the
 *   newest version of a key always has the highest seq, whichever gateway
 *   wrote it. A partial unique index allows one latest version per key.
 * - Writes that touch reference counts run as PL/pgSQL functions: one round
 *   trip, and every blob row a transaction changes is locked once, in id
 *   order (`tessera_refs`), so two transactions never deadlock on blobs.
 *   Lock order everywhere: bucket (KEY SHARE) -> key (advisory) -> latest
 *   version -> upload -> part -> blobs.
 * - A referenced blob that is gone raises SQLSTATE `TS001` (DETAIL: its id),
 *   which the store turns into `BlobGone`, as does registering a new blob
 *   whose id the reaper has claimed (a unique violation on a tombstone row).
 *   A write into a bucket that is gone, or is no longer the bucket the write
 *   was authorized against, raises `TS003` (DETAIL: the name): `BucketGone`.
 */
import { BUCKET_IDS_AND_TOMBSTONES } from './schema-bucket-ids.js';
import { INITIAL } from './schema-initial.js';

export const MIGRATIONS: string[] = [
  INITIAL,
  // 2: accounts and access keys (secrets sealed by api/, see crypto/secrets.ts).
  `
  CREATE TABLE accounts (
    account_id text COLLATE "C" PRIMARY KEY,
    canonical_id text COLLATE "C" NOT NULL UNIQUE,
    display_name text NOT NULL,
    email text,
    created_at bigint NOT NULL
  );
  CREATE TABLE access_keys (
    access_key_id text COLLATE "C" PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL,
    secret text NOT NULL,
    status text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE TABLE accounts_generation (generation bigint NOT NULL);
  INSERT INTO accounts_generation VALUES (0);
  `,
  // 3: uploads of a key list in initiation order by a sequence, not the millisecond clock.
  `
  CREATE SEQUENCE upload_seq;
  ALTER TABLE uploads ADD COLUMN seq bigint;
  UPDATE uploads SET seq = o.n FROM (SELECT upload_id, row_number() OVER (ORDER BY initiated, upload_id) AS n FROM uploads) o
    WHERE uploads.upload_id = o.upload_id;
  SELECT setval('upload_seq', (SELECT count(*) + 1 FROM uploads), false);
  ALTER TABLE uploads ALTER COLUMN seq SET DEFAULT nextval('upload_seq'), ALTER COLUMN seq SET NOT NULL;
  DROP INDEX uploads_by_key;
  CREATE INDEX uploads_by_key ON uploads (bucket, key, seq);
  `,
  // 4: a blob's CRC-64/NVME prefix checkpoints (src/util/crc-checkpoints.ts), so copies derive range checksums
  // without reading. The writes that add blobs gain wrappers taking them; the functions of migration 1 stay as they are.
  `
  ALTER TABLE blobs ADD COLUMN crc64nvme bytea;
  CREATE FUNCTION tessera_set_blob_crcs(p_ids text[], p_crcs bytea[]) RETURNS void LANGUAGE sql AS $$
    UPDATE blobs b SET crc64nvme = t.crc FROM unnest(p_ids, p_crcs) AS t(id, crc) WHERE b.id = t.id AND t.crc IS NOT NULL
  $$;
  CREATE FUNCTION tessera_put_version_crc(p_bucket text, p_key text, p_version_id text, p_replace_null boolean,
    p_delete_marker boolean, p_size bigint, p_etag text, p_last_modified bigint, p_manifest text, p_meta text,
    p_new_ids text[], p_new_sizes bigint[], p_new_md5s text[], p_new_inline bytea[], p_now bigint, p_new_crcs bytea[],
    OUT seq bigint, OUT dropped jsonb) LANGUAGE plpgsql AS $$
  BEGIN
    SELECT w.seq, w.dropped INTO seq, dropped FROM tessera_put_version(p_bucket, p_key, p_version_id, p_replace_null,
      p_delete_marker, p_size, p_etag, p_last_modified, p_manifest, p_meta, p_new_ids, p_new_sizes, p_new_md5s, p_new_inline, p_now) w;
    PERFORM tessera_set_blob_crcs(p_new_ids, p_new_crcs);
  END
  $$;
  CREATE FUNCTION tessera_put_part_crc(p_upload_id text, p_part_number integer, p_size bigint, p_etag text,
    p_last_modified bigint, p_manifest text, p_meta text,
    p_new_ids text[], p_new_sizes bigint[], p_new_md5s text[], p_new_inline bytea[], p_now bigint, p_new_crcs bytea[]) RETURNS jsonb
  LANGUAGE plpgsql AS $$
  DECLARE
    replaced jsonb;
  BEGIN
    replaced := tessera_put_part(p_upload_id, p_part_number, p_size, p_etag, p_last_modified, p_manifest, p_meta,
      p_new_ids, p_new_sizes, p_new_md5s, p_new_inline, p_now);
    PERFORM tessera_set_blob_crcs(p_new_ids, p_new_crcs);
    RETURN replaced;
  END
  $$;
  `,
  BUCKET_IDS_AND_TOMBSTONES,
];
