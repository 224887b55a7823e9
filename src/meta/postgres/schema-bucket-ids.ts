/**
 * PostgreSQL migration 5 (see schema.ts).
 *
 * 5: DeleteBucket takes uploads in progress with it; a bucket's identity, checked by every write
 * that puts something in a bucket (so a write commits only into the bucket it was authorized for:
 * one deleted and created again is another bucket), and the reaper's tombstones (blob rows with
 * refs -1): a claimed id is never registered (primary key) or referenced (a trigger) again. The
 * functions of migration 1 stay; the new *_in wrappers check the bucket first, taking its KEY SHARE
 * lock as the lock order says.
 */
export const BUCKET_IDS_AND_TOMBSTONES = `
  ALTER TABLE buckets ADD COLUMN id text COLLATE "C" NOT NULL DEFAULT '';
  UPDATE buckets SET id = substr(md5(random()::text || clock_timestamp()::text || name), 1, 24);
  CREATE INDEX blobs_tombstones ON blobs (zero_since) WHERE refs < 0;

  -- The bucket is there (KEY SHARE: DeleteBucket waits for this transaction) and, with p_bucket_id, is that bucket.
  CREATE FUNCTION tessera_check_bucket(p_bucket text, p_bucket_id text) RETURNS void LANGUAGE plpgsql AS $$
  DECLARE
    found_id text;
  BEGIN
    SELECT id INTO found_id FROM buckets WHERE name = p_bucket FOR KEY SHARE;
    IF NOT FOUND OR (p_bucket_id IS NOT NULL AND found_id <> p_bucket_id) THEN
      RAISE EXCEPTION 'bucket % is gone', p_bucket USING ERRCODE = 'TS003', DETAIL = p_bucket;
    END IF;
  END
  $$;
  CREATE FUNCTION tessera_lock_key_in(p_bucket_id text, p_bucket text, p_key text) RETURNS SETOF versions LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM tessera_check_bucket(p_bucket, p_bucket_id);
    RETURN QUERY SELECT * FROM tessera_lock_key(p_bucket, p_key);
  END
  $$;
  CREATE FUNCTION tessera_put_version_in(p_bucket_id text, p_bucket text, p_key text, p_version_id text, p_replace_null boolean,
    p_delete_marker boolean, p_size bigint, p_etag text, p_last_modified bigint, p_manifest text, p_meta text,
    p_new_ids text[], p_new_sizes bigint[], p_new_md5s text[], p_new_inline bytea[], p_now bigint, p_new_crcs bytea[],
    OUT seq bigint, OUT dropped jsonb) LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM tessera_check_bucket(p_bucket, p_bucket_id);
    SELECT w.seq, w.dropped INTO seq, dropped FROM tessera_put_version_crc(p_bucket, p_key, p_version_id, p_replace_null,
      p_delete_marker, p_size, p_etag, p_last_modified, p_manifest, p_meta, p_new_ids, p_new_sizes, p_new_md5s, p_new_inline,
      p_now, p_new_crcs) w;
  END
  $$;
  CREATE FUNCTION tessera_create_upload_in(p_bucket_id text, p_upload_id text, p_bucket text, p_key text, p_initiated bigint, p_meta text)
  RETURNS void LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM tessera_check_bucket(p_bucket, p_bucket_id);
    PERFORM tessera_create_upload(p_upload_id, p_bucket, p_key, p_initiated, p_meta);
  END
  $$;
  CREATE FUNCTION tessera_lock_complete_in(p_bucket_id text, p_bucket text, p_key text, p_upload_id text) RETURNS jsonb LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM tessera_check_bucket(p_bucket, p_bucket_id);
    RETURN tessera_lock_complete(p_bucket, p_key, p_upload_id);
  END
  $$;

  -- As tessera_delete_bucket, but uploads in progress go with the bucket (as on AWS): each locked, removed, and its
  -- parts' references dropped. A part being written holds its upload FOR SHARE, so this waits for it; an upload
  -- being created holds the bucket KEY SHARE, which this FOR UPDATE waits for (and which then finds no bucket).
  CREATE FUNCTION tessera_delete_bucket_at(p_name text, p_now bigint) RETURNS text LANGUAGE plpgsql AS $$
  DECLARE
    u record;
  BEGIN
    PERFORM 1 FROM buckets WHERE name = p_name FOR UPDATE;
    IF NOT FOUND THEN RETURN 'missing'; END IF;
    IF EXISTS (SELECT 1 FROM versions WHERE bucket = p_name) THEN RETURN 'not-empty'; END IF;
    FOR u IN SELECT upload_id FROM uploads WHERE bucket = p_name ORDER BY upload_id FOR UPDATE LOOP
      PERFORM tessera_refs('{}', tessera_remove_upload(u.upload_id), p_now);
    END LOOP;
    DELETE FROM buckets WHERE name = p_name;
    RETURN 'deleted';
  END
  $$;

  -- A tombstone (refs -1) is never referenced again: changing its count is referencing a blob that is gone.
  CREATE FUNCTION tessera_tombstone_guard() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION 'blob % is gone', OLD.id USING ERRCODE = 'TS001', DETAIL = OLD.id;
  END
  $$;
  CREATE TRIGGER blobs_tombstone_guard BEFORE UPDATE OF refs ON blobs FOR EACH ROW WHEN (OLD.refs < 0)
    EXECUTE FUNCTION tessera_tombstone_guard();
  `;
