/**
 * PostgreSQL migration 1 (see schema.ts): the tables and the write functions
 * every later migration builds on. Applied migrations never change.
 *
 * 1: buckets, versions, blobs, uploads, parts, completions, and the write functions.
 */
export const INITIAL = `
  CREATE TABLE buckets (
    name text COLLATE "C" PRIMARY KEY,
    owner_id text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL,
    region text NOT NULL,
    versioning text NOT NULL DEFAULT '',
    config text NOT NULL DEFAULT '{}'
  );
  CREATE SEQUENCE version_seq;
  CREATE TABLE versions (
    bucket text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    version_id text COLLATE "C" NOT NULL,
    is_latest boolean NOT NULL,
    delete_marker boolean NOT NULL,
    size bigint NOT NULL,
    etag text NOT NULL,
    last_modified bigint NOT NULL,
    manifest text NOT NULL,
    meta text NOT NULL
  );
  CREATE UNIQUE INDEX versions_order ON versions (bucket, key, seq DESC);
  CREATE UNIQUE INDEX versions_by_id ON versions (bucket, key, version_id);
  CREATE UNIQUE INDEX versions_latest ON versions (bucket, key) WHERE is_latest;
  CREATE TABLE blobs (
    id text COLLATE "C" PRIMARY KEY,
    size bigint NOT NULL,
    md5 text,
    refs integer NOT NULL,
    zero_since bigint,
    inline bytea
  );
  CREATE INDEX blobs_garbage ON blobs (zero_since) WHERE refs = 0;
  CREATE TABLE uploads (
    upload_id text COLLATE "C" PRIMARY KEY,
    bucket text COLLATE "C" NOT NULL,
    key text COLLATE "C" NOT NULL,
    initiated bigint NOT NULL,
    meta text NOT NULL
  );
  CREATE INDEX uploads_by_key ON uploads (bucket, key, initiated, upload_id);
  CREATE TABLE parts (
    upload_id text COLLATE "C" NOT NULL,
    part_number integer NOT NULL,
    size bigint NOT NULL,
    etag text NOT NULL,
    last_modified bigint NOT NULL,
    manifest text NOT NULL,
    meta text NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  );
  CREATE TABLE completed (
    upload_id text COLLATE "C" PRIMARY KEY,
    fingerprint text NOT NULL,
    result text NOT NULL,
    completed_at bigint NOT NULL
  );
  CREATE INDEX completed_by_time ON completed (completed_at);

  -- The blob id of every extent of a manifest (one per extent: each holds a reference).
  CREATE FUNCTION tessera_blobs(manifest text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(e->>'blob'), '{}') FROM jsonb_array_elements(manifest::jsonb) e
  $$;

  -- Adds one reference per id in p_add and drops one per id in p_drop, in one
  -- pass that locks the rows in id order. A blob whose count reaches zero is
  -- stamped p_now (the grace period starts); one referenced again is unstamped.
  CREATE FUNCTION tessera_refs(p_add text[], p_drop text[], p_now bigint) RETURNS void LANGUAGE plpgsql AS $$
  DECLARE
    gone text;
  BEGIN
    IF cardinality(p_add) + cardinality(p_drop) = 0 THEN RETURN; END IF;
    PERFORM 1 FROM blobs WHERE id = ANY (p_add || p_drop) ORDER BY id FOR UPDATE;
    SELECT a INTO gone FROM unnest(p_add) a WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE id = a) LIMIT 1;
    IF gone IS NOT NULL THEN
      RAISE EXCEPTION 'blob % is gone', gone USING ERRCODE = 'TS001', DETAIL = gone;
    END IF;
    UPDATE blobs b SET refs = b.refs + d.n,
      zero_since = CASE WHEN b.refs + d.n > 0 THEN NULL WHEN b.refs > 0 THEN p_now ELSE b.zero_since END
    FROM (
      SELECT x.id, sum(x.n)::integer AS n
      FROM (SELECT unnest(p_add) AS id, 1 AS n UNION ALL SELECT unnest(p_drop), -1) x
      GROUP BY x.id
    ) d
    WHERE b.id = d.id AND d.n <> 0;
  END
  $$;

  -- Registers blobs the operation has just written: unreferenced until a manifest names them.
  CREATE FUNCTION tessera_add_blobs(p_ids text[], p_sizes bigint[], p_md5s text[], p_inline bytea[], p_now bigint)
  RETURNS void LANGUAGE sql AS $$
    INSERT INTO blobs (id, size, md5, refs, zero_since, inline)
    SELECT t.id, t.size, t.md5, 0, p_now, t.inl FROM unnest(p_ids, p_sizes, p_md5s, p_inline) AS t(id, size, md5, inl)
  $$;

  -- Serializes writers of one key across every gateway, then returns its
  -- latest version, locked. (A transaction-scoped advisory lock also covers
  -- a key that has no row yet.) Each statement of a volatile function reads
  -- a fresh snapshot, so the SELECT sees what the previous holder committed.
  CREATE FUNCTION tessera_lock_key(p_bucket text, p_key text) RETURNS SETOF versions LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM 1 FROM buckets WHERE name = p_bucket FOR KEY SHARE;
    PERFORM pg_advisory_xact_lock(hashtextextended(p_bucket || '/' || p_key, 0));
    RETURN QUERY SELECT * FROM versions WHERE bucket = p_bucket AND key = p_key AND is_latest FOR UPDATE;
  END
  $$;

  -- Writes a new latest version of a key (the key locked); returns its seq,
  -- the version it replaced (when the same id existed and the mode drops it)
  -- and that version's blob ids, whose references the caller drops.
  CREATE FUNCTION tessera_insert_version(p_bucket text, p_key text, p_version_id text, p_replace_null boolean,
    p_delete_marker boolean, p_size bigint, p_etag text, p_last_modified bigint, p_manifest text, p_meta text,
    OUT seq bigint, OUT dropped jsonb, OUT dropped_blobs text[]) LANGUAGE plpgsql AS $$
  DECLARE
    prev versions;
  BEGIN
    PERFORM tessera_lock_key(p_bucket, p_key);
    dropped_blobs := '{}';
    SELECT * INTO prev FROM versions v WHERE v.bucket = p_bucket AND v.key = p_key AND v.version_id = p_version_id FOR UPDATE;
    IF FOUND AND (p_replace_null OR p_version_id = 'null') THEN
      DELETE FROM versions v WHERE v.bucket = p_bucket AND v.key = p_key AND v.seq = prev.seq;
      dropped := to_jsonb(prev);
      dropped_blobs := tessera_blobs(prev.manifest);
    END IF;
    UPDATE versions v SET is_latest = false WHERE v.bucket = p_bucket AND v.key = p_key AND v.is_latest;
    seq := nextval('version_seq');
    INSERT INTO versions (bucket, key, seq, version_id, is_latest, delete_marker, size, etag, last_modified, manifest, meta)
    VALUES (p_bucket, p_key, seq, p_version_id, true, p_delete_marker, p_size, p_etag, p_last_modified, p_manifest, p_meta);
  END
  $$;

  CREATE FUNCTION tessera_put_version(p_bucket text, p_key text, p_version_id text, p_replace_null boolean,
    p_delete_marker boolean, p_size bigint, p_etag text, p_last_modified bigint, p_manifest text, p_meta text,
    p_new_ids text[], p_new_sizes bigint[], p_new_md5s text[], p_new_inline bytea[], p_now bigint,
    OUT seq bigint, OUT dropped jsonb) LANGUAGE plpgsql AS $$
  DECLARE
    w record;
  BEGIN
    PERFORM tessera_add_blobs(p_new_ids, p_new_sizes, p_new_md5s, p_new_inline, p_now);
    SELECT * INTO w FROM tessera_insert_version(p_bucket, p_key, p_version_id, p_replace_null, p_delete_marker, p_size,
      p_etag, p_last_modified, p_manifest, p_meta);
    PERFORM tessera_refs(tessera_blobs(p_manifest), w.dropped_blobs, p_now);
    seq := w.seq;
    dropped := w.dropped;
  END
  $$;

  -- Removes one version; the newest remaining one becomes latest.
  CREATE FUNCTION tessera_delete_version(p_bucket text, p_key text, p_version_id text, p_now bigint) RETURNS jsonb
  LANGUAGE plpgsql AS $$
  DECLARE
    prev versions;
  BEGIN
    PERFORM tessera_lock_key(p_bucket, p_key);
    SELECT * INTO prev FROM versions WHERE bucket = p_bucket AND key = p_key AND version_id = p_version_id FOR UPDATE;
    IF NOT FOUND THEN RETURN NULL; END IF;
    DELETE FROM versions WHERE bucket = p_bucket AND key = p_key AND seq = prev.seq;
    PERFORM tessera_refs('{}', tessera_blobs(prev.manifest), p_now);
    IF prev.is_latest THEN
      UPDATE versions SET is_latest = true WHERE bucket = p_bucket AND key = p_key
        AND seq = (SELECT max(seq) FROM versions WHERE bucket = p_bucket AND key = p_key);
    END IF;
    RETURN to_jsonb(prev);
  END
  $$;

  -- Bucket deletion waits for writers in flight (they hold KEY SHARE on the
  -- bucket row) and then sees what they committed.
  CREATE FUNCTION tessera_delete_bucket(p_name text) RETURNS text LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM 1 FROM buckets WHERE name = p_name FOR UPDATE;
    IF NOT FOUND THEN RETURN 'missing'; END IF;
    IF EXISTS (SELECT 1 FROM versions WHERE bucket = p_name) OR EXISTS (SELECT 1 FROM uploads WHERE bucket = p_name) THEN
      RETURN 'not-empty';
    END IF;
    DELETE FROM buckets WHERE name = p_name;
    RETURN 'deleted';
  END
  $$;

  CREATE FUNCTION tessera_create_upload(p_upload_id text, p_bucket text, p_key text, p_initiated bigint, p_meta text)
  RETURNS void LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM 1 FROM buckets WHERE name = p_bucket FOR KEY SHARE;
    INSERT INTO uploads (upload_id, bucket, key, initiated, meta) VALUES (p_upload_id, p_bucket, p_key, p_initiated, p_meta);
  END
  $$;

  -- Stores a part (replacing one of the same number) while the upload is
  -- share-locked: parts of one upload are written in parallel, but never
  -- while a Complete or an Abort holds the upload. Returns the replaced part.
  CREATE FUNCTION tessera_put_part(p_upload_id text, p_part_number integer, p_size bigint, p_etag text,
    p_last_modified bigint, p_manifest text, p_meta text,
    p_new_ids text[], p_new_sizes bigint[], p_new_md5s text[], p_new_inline bytea[], p_now bigint) RETURNS jsonb
  LANGUAGE plpgsql AS $$
  DECLARE
    prev parts;
    replaced jsonb;
  BEGIN
    PERFORM 1 FROM uploads WHERE upload_id = p_upload_id FOR SHARE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'upload % is gone', p_upload_id USING ERRCODE = 'TS002';
    END IF;
    PERFORM tessera_add_blobs(p_new_ids, p_new_sizes, p_new_md5s, p_new_inline, p_now);
    LOOP
      SELECT * INTO prev FROM parts WHERE upload_id = p_upload_id AND part_number = p_part_number FOR UPDATE;
      IF FOUND THEN
        replaced := to_jsonb(prev);
        UPDATE parts SET size = p_size, etag = p_etag, last_modified = p_last_modified, manifest = p_manifest, meta = p_meta
          WHERE upload_id = p_upload_id AND part_number = p_part_number;
        EXIT;
      END IF;
      INSERT INTO parts (upload_id, part_number, size, etag, last_modified, manifest, meta)
        VALUES (p_upload_id, p_part_number, p_size, p_etag, p_last_modified, p_manifest, p_meta)
        ON CONFLICT DO NOTHING;
      EXIT WHEN FOUND;
    END LOOP;
    PERFORM tessera_refs(tessera_blobs(p_manifest),
      CASE WHEN replaced IS NULL THEN '{}'::text[] ELSE tessera_blobs(prev.manifest) END, p_now);
    RETURN replaced;
  END
  $$;

  -- Deletes an upload and its parts (the upload locked by the caller);
  -- returns the blob ids whose references the caller drops.
  CREATE FUNCTION tessera_remove_upload(p_upload_id text) RETURNS text[] LANGUAGE plpgsql AS $$
  DECLARE
    ids text[];
  BEGIN
    SELECT coalesce(array_agg(b), '{}') INTO ids FROM parts p, unnest(tessera_blobs(p.manifest)) b WHERE p.upload_id = p_upload_id;
    DELETE FROM parts WHERE upload_id = p_upload_id;
    DELETE FROM uploads WHERE upload_id = p_upload_id;
    RETURN ids;
  END
  $$;

  CREATE FUNCTION tessera_abort_upload(p_upload_id text, p_now bigint) RETURNS boolean LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM 1 FROM uploads WHERE upload_id = p_upload_id FOR UPDATE;
    IF NOT FOUND THEN RETURN false; END IF;
    PERFORM tessera_refs('{}', tessera_remove_upload(p_upload_id), p_now);
    RETURN true;
  END
  $$;

  -- First half of a Complete: locks the key, then the upload, and returns
  -- what the caller's build callback decides on: the latest version, the
  -- upload and its parts (as JSON, one round trip).
  CREATE FUNCTION tessera_lock_complete(p_bucket text, p_key text, p_upload_id text) RETURNS jsonb LANGUAGE plpgsql AS $$
  DECLARE
    latest jsonb;
    up jsonb;
    ps jsonb := '[]';
  BEGIN
    SELECT to_jsonb(v) INTO latest FROM tessera_lock_key(p_bucket, p_key) v;
    SELECT to_jsonb(u) INTO up FROM uploads u WHERE upload_id = p_upload_id FOR UPDATE;
    IF up IS NOT NULL THEN
      SELECT coalesce(jsonb_agg(to_jsonb(p) ORDER BY p.part_number), '[]') INTO ps FROM parts p WHERE p.upload_id = p_upload_id;
    END IF;
    RETURN jsonb_build_object('latest', latest, 'upload', up, 'parts', ps);
  END
  $$;

  -- Second half: the built version becomes latest, the upload and its parts
  -- go, the completion is remembered. References of the new manifest and of
  -- everything dropped are applied in one pass, so shared blobs never touch zero.
  CREATE FUNCTION tessera_complete(p_upload_id text, p_bucket text, p_key text, p_version_id text, p_replace_null boolean,
    p_delete_marker boolean, p_size bigint, p_etag text, p_last_modified bigint, p_manifest text, p_meta text,
    p_fingerprint text, p_result text, p_now bigint) RETURNS bigint LANGUAGE plpgsql AS $$
  DECLARE
    w record;
  BEGIN
    SELECT * INTO w FROM tessera_insert_version(p_bucket, p_key, p_version_id, p_replace_null, p_delete_marker, p_size,
      p_etag, p_last_modified, p_manifest, p_meta);
    PERFORM tessera_refs(tessera_blobs(p_manifest), w.dropped_blobs || tessera_remove_upload(p_upload_id), p_now);
    INSERT INTO completed (upload_id, fingerprint, result, completed_at) VALUES (p_upload_id, p_fingerprint, p_result, p_now)
      ON CONFLICT (upload_id) DO UPDATE SET fingerprint = excluded.fingerprint, result = excluded.result, completed_at = excluded.completed_at;
    RETURN w.seq;
  END
  $$;
  `;
