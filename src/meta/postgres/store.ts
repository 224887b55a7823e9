import type { Pool } from 'pg';
import type {
  AccessKeyRow, AccountRow, AccountsSnapshot, CompleteArgs, CompletedRecord, ListUploadsQuery, ListVersionsQuery,
  MetaStore, NewBucketRow, ObjectMeta, PartRow, PutPartArgs, PutVersionArgs, UploadRow, VersionRow,
} from '../types.js';
import { newBucketId, prefixEnd } from '../keys.js';
import { patchBucket, type BucketPatch } from '../bucket-patch.js';
import { AccountsGenerationCache, ACCOUNTS_CHANNEL } from './accounts-cache.js';
import { migrate } from './migrate.js';
import { autocommit, createPool, transaction, type PostgresOptions, type Query } from './pool.js';
import { blobArrays, blobCrcs, dec, enc, toAccount, toBlob, toBucket, toKey, toPart, toUpload, toVersion, type Row } from './rows.js';

export type { PostgresOptions } from './pool.js';

const LOCK_ACCOUNTS = 'SELECT generation FROM accounts_generation FOR UPDATE';
/** Bumps the generation and announces it to every listening gateway when (and only if) the change commits. */
const BUMP_ACCOUNTS = `WITH g AS (UPDATE accounts_generation SET generation = generation + 1 RETURNING generation)
  SELECT pg_notify('${ACCOUNTS_CHANNEL}', generation::text) FROM g`;

/** Collects positional parameters for a statement built piece by piece. */
class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

function greatestKey(keys: Array<string | undefined>): string | undefined {
  return keys.reduce<string | undefined>((a, b) => (b === undefined || (a !== undefined && Buffer.compare(Buffer.from(b), Buffer.from(a)) <= 0) ? a : b), undefined);
}

/**
 * The scale-out metadata store: PostgreSQL through a pool of connections,
 * shared by any number of Tessera processes. Correctness comes from the
 * database alone, never from this process: each primitive is one transaction
 * (most are one statement calling a function of schema.ts); `check` and
 * `build` callbacks run inside it after the rows they are shown are locked
 * (the key's latest version under a per-key advisory lock, the upload row),
 * so concurrent writers of a key, racing Completes and Aborts of an upload
 * serialize in the database whichever gateway they arrive at.
 */
export class PostgresMetaStore implements MetaStore {
  readonly kind = 'postgres' as const;
  private readonly q: Query;
  private readonly generations: AccountsGenerationCache;
  private closed = false;

  private constructor(private readonly pool: Pool, opts: PostgresOptions) {
    this.q = autocommit(pool);
    this.generations = new AccountsGenerationCache(
      { connectionString: opts.connectionString, maxAgeMs: opts.accountsMaxAgeMs ?? 1000, retryMs: 1000, onError: opts.onError },
      async () => (await this.q('SELECT generation FROM accounts_generation'))[0].generation as number,
    );
  }

  /** Connects and migrates the schema (safe when several gateways start at once). */
  static async open(opts: PostgresOptions = {}): Promise<PostgresMetaStore> {
    const pool = createPool(opts);
    try {
      await migrate(pool);
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    return new PostgresMetaStore(pool, opts);
  }

  private tx<T>(fn: (q: Query) => Promise<T>): Promise<T> {
    return transaction(this.pool, fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.generations.close();
    await this.pool.end();
  }

  // ---- buckets ----

  async createBucket(row: NewBucketRow) {
    for (;;) {
      const inserted = await this.q(
        `INSERT INTO buckets (name, owner_id, created_at, region, versioning, config, id) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (name) DO NOTHING RETURNING name`,
        [row.name, row.ownerId, row.createdAt, row.region, row.versioning, JSON.stringify(row.config), row.id ?? newBucketId()],
      );
      if (inserted.length > 0) return { created: true as const };
      const existing = await this.getBucket(row.name);
      if (existing) return { created: false as const, existing };
    }
  }

  async getBucket(name: string) {
    const [r] = await this.q('SELECT * FROM buckets WHERE name = $1', [name]);
    return r ? toBucket(r) : undefined;
  }

  async listBuckets(ownerId?: string) {
    const rows = ownerId === undefined
      ? await this.q('SELECT * FROM buckets ORDER BY name')
      : await this.q('SELECT * FROM buckets WHERE owner_id = $1 ORDER BY name', [ownerId]);
    return rows.map(toBucket);
  }

  async deleteBucket(name: string) {
    const [r] = await this.q('SELECT tessera_delete_bucket_at($1, $2) AS outcome', [name, Date.now()]);
    return r.outcome as 'deleted' | 'not-empty' | 'missing';
  }

  async updateBucket(name: string, patch: BucketPatch, bucketId?: string) {
    return this.tx(async (q) => {
      const [r] = await q('SELECT * FROM buckets WHERE name = $1 FOR NO KEY UPDATE', [name]);
      const next = patchBucket(name, r ? toBucket(r) : undefined, patch, bucketId);
      if (next) await q('UPDATE buckets SET versioning = $1, config = $2 WHERE name = $3', [next.versioning, next.config, name]);
      return next !== undefined;
    });
  }


  // ---- versions ----

  async getVersion(bucket: string, key: string, versionId?: string) {
    const [r] = versionId === undefined
      ? await this.q('SELECT * FROM versions WHERE bucket = $1 AND key = $2 AND is_latest', [bucket, enc(key)])
      : await this.q('SELECT * FROM versions WHERE bucket = $1 AND key = $2 AND version_id = $3', [bucket, enc(key), enc(versionId)]);
    return r ? toVersion(r) : undefined;
  }

  async putVersion(a: PutVersionArgs) {
    const v = a.version;
    const params = [
      a.bucketId ?? null, a.bucket, enc(a.key), enc(a.versionId), a.mode === 'replace-null', v.deleteMarker, v.size, v.etag, v.lastModified,
      JSON.stringify(v.manifest), JSON.stringify(v.meta), ...blobArrays(a.newBlobs), Date.now(), blobCrcs(a.newBlobs),
    ];
    const write = async (q: Query) => {
      const [r] = await q('SELECT seq, dropped FROM tessera_put_version_in($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)', params);
      return { dropped: r.dropped ? toVersion(r.dropped) : undefined };
    };
    if (!a.check) return write(this.q);
    return this.tx(async (q) => {
      const [cur] = await q('SELECT * FROM tessera_lock_key_in($1, $2, $3)', [a.bucketId ?? null, a.bucket, enc(a.key)]);
      a.check!(cur ? toVersion(cur) : undefined);
      return write(q);
    });
  }

  async deleteVersion(bucket: string, key: string, versionId: string) {
    const [r] = await this.q('SELECT tessera_delete_version($1, $2, $3, $4) AS gone', [bucket, enc(key), enc(versionId), Date.now()]);
    return r.gone ? toVersion(r.gone) : undefined;
  }

  async updateVersionMeta(bucket: string, key: string, versionId: string, patch: ObjectMeta) {
    return this.tx(async (q) => {
      const where = 'WHERE bucket = $1 AND key = $2 AND version_id = $3';
      const [r] = await q(`SELECT meta FROM versions ${where} FOR NO KEY UPDATE`, [bucket, enc(key), enc(versionId)]);
      if (!r) return false;
      const meta = { ...JSON.parse(r.meta), ...patch };
      for (const k of Object.keys(meta)) if (meta[k] === undefined) delete meta[k];
      await q(`UPDATE versions SET meta = $4 ${where}`, [bucket, enc(key), enc(versionId), JSON.stringify(meta)]);
      return true;
    });
  }

  /**
   * Newest first within a key, keys in byte order, one lower bound on `key`
   * (the greatest of prefix, fromKey and afterKey) so the index range starts
   * where the page does.
   */
  async listVersions(bucket: string, q: ListVersionsQuery) {
    const p = new Params();
    const where = [`bucket = ${p.add(bucket)}`];
    if (q.latestOnly) where.push('is_latest AND NOT delete_marker');
    const low = greatestKey([q.prefix, q.fromKey, q.afterKey]);
    if (low !== undefined) where.push(`key >= ${p.add(enc(low))}`);
    const end = q.prefix ? prefixEnd(q.prefix) : undefined;
    if (end !== undefined) where.push(`key < ${p.add(enc(end))}`);
    if (q.afterKey !== undefined && q.afterKey === low) {
      const after = p.add(enc(q.afterKey));
      where.push(q.afterSeq !== undefined ? `(key > ${after} OR (key = ${after} AND seq < ${p.add(q.afterSeq)}))` : `key > ${after}`);
    }
    const sql = `SELECT * FROM versions WHERE ${where.join(' AND ')} ORDER BY key, seq DESC LIMIT ${p.add(q.limit)}`;
    return (await this.q(sql, p.values)).map(toVersion);
  }

  // ---- uploads ----

  async createUpload(u: UploadRow, bucketId?: string) {
    await this.q('SELECT tessera_create_upload_in($1, $2, $3, $4, $5, $6)', [bucketId ?? null, enc(u.uploadId), u.bucket, enc(u.key), u.initiated, JSON.stringify(u.meta)]);
  }

  async getUpload(uploadId: string) {
    const [r] = await this.q('SELECT * FROM uploads WHERE upload_id = $1', [enc(uploadId)]);
    return r ? toUpload(r) : undefined;
  }

  /** Keys in byte order, then initiation order (`seq`); afterUploadId continues inside afterKey when that upload is still there. */
  async listUploads(bucket: string, q: ListUploadsQuery) {
    const p = new Params();
    const where = [`bucket = ${p.add(bucket)}`];
    if (q.prefix) {
      where.push(`key >= ${p.add(enc(q.prefix))}`);
      const end = prefixEnd(q.prefix);
      if (end !== undefined) where.push(`key < ${p.add(enc(end))}`);
    }
    if (q.fromKey !== undefined) where.push(`key >= ${p.add(enc(q.fromKey))}`);
    if (q.afterKey !== undefined) {
      const after = p.add(enc(q.afterKey));
      where.push(q.afterUploadId === undefined ? `key > ${after}` : `(key > ${after} OR (key = ${after} AND seq >
        (SELECT r.seq FROM uploads r WHERE r.upload_id = ${p.add(enc(q.afterUploadId))} AND r.key = ${after})))`);
    }
    const sql = `SELECT * FROM uploads WHERE ${where.join(' AND ')} ORDER BY key, seq LIMIT ${p.add(q.limit)}`;
    return (await this.q(sql, p.values)).map(toUpload);
  }

  async putPart(a: PutPartArgs) {
    const p = a.part;
    const params = [
      enc(p.uploadId), p.partNumber, p.size, p.etag, p.lastModified, JSON.stringify(p.manifest), JSON.stringify(p.meta),
      ...blobArrays(a.newBlobs), Date.now(), blobCrcs(a.newBlobs),
    ];
    const write = async (q: Query) => {
      const [r] = await q('SELECT tessera_put_part_crc($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) AS replaced', params);
      return { replaced: r.replaced ? toPart(r.replaced) : undefined };
    };
    if (!a.check) return write(this.q);
    return this.tx(async (q) => {
      const [u] = await q('SELECT * FROM uploads WHERE upload_id = $1 FOR SHARE', [enc(p.uploadId)]);
      a.check!(u ? toUpload(u) : undefined);
      return write(q);
    });
  }

  async listParts(uploadId: string, afterPart: number, limit: number) {
    const rows = await this.q('SELECT * FROM parts WHERE upload_id = $1 AND part_number > $2 ORDER BY part_number LIMIT $3', [enc(uploadId), afterPart, limit]);
    return rows.map(toPart);
  }

  async getPart(uploadId: string, partNumber: number) {
    const [r] = await this.q('SELECT * FROM parts WHERE upload_id = $1 AND part_number = $2', [enc(uploadId), partNumber]);
    return r ? toPart(r) : undefined;
  }

  async abortUpload(uploadId: string) {
    const [r] = await this.q('SELECT tessera_abort_upload($1, $2) AS aborted', [enc(uploadId), Date.now()]);
    return r.aborted as boolean;
  }

  /** Locks the key and the upload, lets `build` decide on what it sees, then writes the version and drops the upload. */
  async completeUpload(a: CompleteArgs): Promise<VersionRow> {
    return this.tx(async (q) => {
      const [{ state }] = await q('SELECT tessera_lock_complete_in($1, $2, $3, $4) AS state', [a.bucketId ?? null, a.bucket, enc(a.key), enc(a.uploadId)]);
      const parts = new Map<number, PartRow>((state.parts as Row[]).map((r) => [r.part_number, toPart(r)]));
      const v = a.build(state.upload ? toUpload(state.upload) : undefined, parts, state.latest ? toVersion(state.latest) : undefined);
      const manifest = JSON.stringify(v.manifest);
      const meta = JSON.stringify(v.meta);
      const [{ seq }] = await q('SELECT tessera_complete($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) AS seq', [
        enc(a.uploadId), a.bucket, enc(a.key), enc(a.versionId), a.mode === 'replace-null', v.deleteMarker, v.size, v.etag, v.lastModified,
        manifest, meta, a.fingerprint, JSON.stringify(a.result), Date.now(),
      ]);
      return {
        bucket: a.bucket, key: a.key, versionId: a.versionId, seq, isLatest: true, deleteMarker: v.deleteMarker, size: v.size,
        etag: v.etag, lastModified: v.lastModified, manifest: JSON.parse(manifest), meta: JSON.parse(meta),
      };
    });
  }

  async getCompleted(uploadId: string): Promise<CompletedRecord | undefined> {
    const [r] = await this.q('SELECT * FROM completed WHERE upload_id = $1', [enc(uploadId)]);
    return r ? { uploadId: dec(r.upload_id), fingerprint: r.fingerprint, result: JSON.parse(r.result), completedAt: r.completed_at } : undefined;
  }

  async pruneCompleted(before: number) {
    await this.q('DELETE FROM completed WHERE completed_at < $1', [before]);
  }

  // ---- blobs ----

  async getBlob(id: string) {
    const [r] = await this.q('SELECT * FROM blobs WHERE id = $1', [id]);
    return r ? toBlob(r) : undefined;
  }

  /**
   * Rows locked by a writer that is re-referencing them are skipped (that
   * writer wins); a writer arriving after the delete finds no row: BlobGone.
   */
  async takeGarbage(before: number, limit: number) {
    const rows = await this.q(
      `DELETE FROM blobs WHERE id IN (
         SELECT id FROM blobs WHERE refs = 0 AND zero_since < $1 ORDER BY zero_since LIMIT $2 FOR UPDATE SKIP LOCKED
       ) AND refs = 0 RETURNING *`,
      [before, limit],
    );
    return rows.map(toBlob);
  }

  async knownBlobs(ids: string[]) {
    if (ids.length === 0) return new Set<string>();
    const rows = await this.q('SELECT id FROM blobs WHERE id = ANY ($1)', [ids]);
    return new Set(rows.map((r) => r.id as string));
  }

  /**
   * A writer's uncommitted row for the same id makes this INSERT wait: if the
   * writer commits, the id is known and not claimed; if it rolls back, it is.
   */
  async claimOrphans(ids: string[], now: number) {
    if (ids.length === 0) return [];
    const rows = await this.q(
      `INSERT INTO blobs (id, size, refs, zero_since) SELECT id, 0, -1, $2 FROM unnest($1::text[]) AS id
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [ids, now],
    );
    return rows.map((r) => r.id as string);
  }

  async pruneTombstones(before: number) {
    const rows = await this.q('DELETE FROM blobs WHERE refs < 0 AND zero_since < $1 RETURNING id', [before]);
    return rows.length;
  }

  async staleUploads(bucket: string, prefix: string, before: number) {
    const end = prefixEnd(prefix);
    const rows = end === undefined
      ? await this.q('SELECT * FROM uploads WHERE bucket = $1 AND key >= $2 AND initiated < $3 ORDER BY key, initiated', [bucket, enc(prefix), before])
      : await this.q('SELECT * FROM uploads WHERE bucket = $1 AND key >= $2 AND key < $4 AND initiated < $3 ORDER BY key, initiated', [bucket, enc(prefix), before, enc(end)]);
    return rows.map(toUpload);
  }

  // ---- accounts ----
  // Every change first locks the generation row (account writers serialize on
  // it, so `check` sees rows no one else is changing), bumps it and notifies
  // ACCOUNTS_CHANNEL; this store forgets its cached generation as it returns.

  /**
   * Cheap enough for every signed request: cached between notifications
   * (accounts-cache.ts). A change through this store is seen at once; one
   * through another process as soon as its notification arrives, and never
   * later than `accountsMaxAgeMs` (default 1 s) after it committed.
   */
  accountsGeneration() {
    return this.generations.generation();
  }

  /** Runs one accounts change; the cached generation is dropped however it ends. */
  private async changeAccounts<T>(fn: (q: Query) => Promise<T>): Promise<T> {
    try {
      return await this.tx(fn);
    } finally {
      this.generations.drop();
    }
  }

  /** One statement, so one snapshot: the generation matches the rows. */
  async loadAccounts(): Promise<AccountsSnapshot> {
    const [r] = await this.q(`SELECT
      (SELECT generation FROM accounts_generation) AS generation,
      (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.account_id), '[]') FROM accounts a) AS accounts,
      (SELECT coalesce(jsonb_agg(to_jsonb(k) ORDER BY k.account_id, k.created_at, k.access_key_id), '[]') FROM access_keys k) AS keys`);
    return { generation: r.generation, accounts: (r.accounts as Row[]).map(toAccount), keys: (r.keys as Row[]).map(toKey) };
  }

  /** Replaces whatever row holds this account id or canonical id, as the SQLite store's INSERT OR REPLACE. */
  async putAccount(a: AccountRow, check?: (existing: AccountRow | undefined) => void) {
    await this.changeAccounts(async (q) => {
      await q(LOCK_ACCOUNTS);
      const [r] = await q('SELECT * FROM accounts WHERE account_id = $1', [a.accountId]);
      check?.(r ? toAccount(r) : undefined);
      await q('DELETE FROM accounts WHERE account_id = $1 OR canonical_id = $2', [a.accountId, a.canonicalId]);
      await q('INSERT INTO accounts (account_id, canonical_id, display_name, email, created_at) VALUES ($1, $2, $3, $4, $5)',
        [a.accountId, a.canonicalId, a.displayName, a.email ?? null, a.createdAt]);
      await q(BUMP_ACCOUNTS);
    });
  }

  async deleteAccount(accountId: string, check?: (existing: AccountRow) => void) {
    return this.changeAccounts(async (q) => {
      await q(LOCK_ACCOUNTS);
      const [r] = await q('SELECT * FROM accounts WHERE account_id = $1', [accountId]);
      if (!r) return false;
      check?.(toAccount(r));
      await q('DELETE FROM accounts WHERE account_id = $1', [accountId]);
      await q(`UPDATE access_keys SET status = 'Revoked', secret = '' WHERE account_id = $1`, [accountId]);
      await q(BUMP_ACCOUNTS);
      return true;
    });
  }

  async putAccessKey(k: AccessKeyRow, check?: (existing: AccessKeyRow | undefined) => void) {
    await this.changeAccounts(async (q) => {
      await q(LOCK_ACCOUNTS);
      const [r] = await q('SELECT * FROM access_keys WHERE access_key_id = $1', [k.accessKeyId]);
      check?.(r ? toKey(r) : undefined);
      await q(`INSERT INTO access_keys (access_key_id, account_id, secret, status, created_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (access_key_id) DO UPDATE SET account_id = excluded.account_id, secret = excluded.secret,
        status = excluded.status, created_at = excluded.created_at`, [k.accessKeyId, k.accountId, k.secret, k.status, k.createdAt]);
      await q(BUMP_ACCOUNTS);
    });
  }
}
