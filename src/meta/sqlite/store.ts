import Database from 'better-sqlite3';
import type { Database as DB, Statement } from 'better-sqlite3';
import {
  BlobGone, BucketGone, type AccessKeyRow, type AccountRow, type AccountsSnapshot, type CompleteArgs, type CompletedRecord, type Extent, type ListUploadsQuery,
  type ListVersionsQuery, type MetaStore, type NewBlob, type NewBucketRow, type ObjectMeta, type PartRow, type PutPartArgs,
  type PutVersionArgs, type UploadRow, type VersionInput, type VersionRow,
} from '../types.js';
import { MIGRATIONS } from './schema.js';
import { prepareStatements } from './statements.js';
import { toAccount, toBlob, toBucket, toKey, toPart, toUpload, toVersion, type Row } from './rows.js';
import { Batcher } from './batch.js';
import { newBucketId, prefixEnd } from '../keys.js';
import { patchBucket, type BucketPatch } from '../bucket-patch.js';


/** Bounds a scan to keys starting with prefix, as an index range. */
function addPrefix(where: string[], args: unknown[], prefix: string | undefined): void {
  if (!prefix) return;
  where.push('key >= ?');
  args.push(prefix);
  const end = prefixEnd(prefix);
  if (end !== undefined) {
    where.push('key < ?');
    args.push(end);
  }
}

/** The embedded metadata store: better-sqlite3 in WAL mode with group commit; the Batcher syncs the WAL off the event loop (batch.ts). */
export class SqliteMetaStore implements MetaStore {
  readonly kind = 'sqlite' as const;
  private readonly db: DB;
  private readonly batch: Batcher;
  private readonly s: Record<string, Statement>;
  private seq: number;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.batch = new Batcher(this.db);
    this.s = prepareStatements(this.db);
    this.seq = (this.db.prepare('SELECT MAX(seq) AS m FROM versions').get() as Row).m ?? 0;
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT version FROM schema_version').get() as Row | undefined;
    let at = row?.version ?? 0;
    if (!row) this.db.prepare('INSERT INTO schema_version VALUES (0)').run();
    for (; at < MIGRATIONS.length; at++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[at]);
        this.db.prepare('UPDATE schema_version SET version = ?').run(at + 1);
      })();
    }
  }

  async close(): Promise<void> {
    // Let queued batches drain before closing.
    await this.batch.run(() => undefined);
    this.batch.close();
    this.db.close();
  }

  // ---- buckets ----

  async createBucket(row: NewBucketRow) {
    return this.batch.run(() => {
      const existing = this.s.bucketGet.get(row.name) as Row | undefined;
      if (existing) return { created: false as const, existing: toBucket(existing) };
      this.s.bucketInsert.run(row.name, row.id ?? newBucketId(), row.ownerId, row.createdAt, row.region, row.versioning, JSON.stringify(row.config));
      return { created: true as const };
    });
  }

  async getBucket(name: string) {
    const r = this.s.bucketGet.get(name) as Row | undefined;
    return r ? toBucket(r) : undefined;
  }

  async listBuckets(ownerId?: string) {
    const rows = (ownerId === undefined ? this.s.bucketsAll.all() : this.s.bucketsOwned.all(ownerId)) as Row[];
    return rows.map(toBucket);
  }

  async deleteBucket(name: string) {
    return this.batch.run(() => {
      if (!this.s.bucketGet.get(name)) return 'missing' as const;
      if (this.s.bucketHasVersions.get(name)) return 'not-empty' as const;
      // Uploads in progress go with the bucket (as on AWS); their parts' blobs are freed for the collector.
      const now = Date.now();
      for (const u of this.s.bucketUploads.all(name) as Row[]) this.dropUpload(u.upload_id, now);
      this.s.bucketDelete.run(name);
      return 'deleted' as const;
    });
  }

  async updateBucket(name: string, patch: BucketPatch, bucketId?: string) {
    return this.batch.run(() => {
      const r = this.s.bucketGet.get(name) as Row | undefined;
      const next = patchBucket(name, r ? toBucket(r) : undefined, patch, bucketId);
      if (next) this.s.bucketUpdate.run(next.versioning, next.config, name);
      return next !== undefined;
    });
  }


  /** Inside a transaction: the bucket a write goes to is there, and is the one it was authorized against. */
  private checkBucket(name: string, bucketId: string | undefined): void {
    const r = this.s.bucketId.get(name) as Row | undefined;
    if (!r || (bucketId !== undefined && r.id !== bucketId)) throw new BucketGone(name);
  }

  // ---- references ----

  /** A new blob's id is new to metadata; one that is known already was claimed by the reaper (a tombstone): its file is gone. */
  private addBlobs(blobs: NewBlob[], now: number): void {
    for (const b of blobs) {
      try {
        this.s.blobInsert.run(b.id, b.size, b.md5 ?? null, b.crc64nvme ?? null, now, b.inline ?? null);
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new BlobGone(b.id);
        throw e;
      }
    }
  }
  private ref(manifest: Extent[]): void {
    for (const e of manifest) if (this.s.blobRef.run(e.blob).changes === 0) throw new BlobGone(e.blob);
  }
  private unref(manifest: Extent[], now: number): void {
    for (const e of manifest) this.s.blobUnref.run(now, e.blob);
  }

  // ---- versions ----

  async getVersion(bucket: string, key: string, versionId?: string) {
    const r = (versionId === undefined ? this.s.latest.get(bucket, key) : this.s.byId.get(bucket, key, versionId)) as Row | undefined;
    return r ? toVersion(r) : undefined;
  }

  /** Inside a transaction: writes `v` as the key's new latest version. */
  private writeVersion(bucket: string, key: string, versionId: string, mode: PutVersionArgs['mode'], v: VersionInput, now: number) {
    let dropped: VersionRow | undefined;
    const existing = this.s.byId.get(bucket, key, versionId) as Row | undefined;
    if (existing && (mode === 'replace-null' || versionId === 'null')) {
      dropped = toVersion(existing);
      this.s.deleteVersion.run(bucket, key, dropped.seq);
      this.unref(dropped.manifest, now);
    }
    this.s.unsetLatest.run(bucket, key);
    const seq = ++this.seq;
    this.s.insertVersion.run(bucket, key, seq, versionId, v.deleteMarker ? 1 : 0, v.size, v.etag, v.lastModified,
      JSON.stringify(v.manifest), JSON.stringify(v.meta));
    this.ref(v.manifest);
    return { dropped, seq };
  }

  async putVersion(a: PutVersionArgs) {
    return this.batch.run(() => {
      const seqBefore = this.seq;
      try {
        this.checkBucket(a.bucket, a.bucketId);
        const cur = this.s.latest.get(a.bucket, a.key) as Row | undefined;
        a.check?.(cur ? toVersion(cur) : undefined);
        const now = Date.now();
        this.addBlobs(a.newBlobs, now);
        return { dropped: this.writeVersion(a.bucket, a.key, a.versionId, a.mode, a.version, now).dropped };
      } catch (e) {
        this.seq = seqBefore;
        throw e;
      }
    });
  }

  async deleteVersion(bucket: string, key: string, versionId: string) {
    return this.batch.run(() => {
      const r = this.s.byId.get(bucket, key, versionId) as Row | undefined;
      if (!r) return undefined;
      const v = toVersion(r);
      this.s.deleteVersion.run(bucket, key, v.seq);
      this.unref(v.manifest, Date.now());
      if (v.isLatest) {
        const next = this.s.newestRemaining.get(bucket, key) as Row | undefined;
        if (next) this.s.setLatest.run(bucket, key, next.seq);
      }
      return v;
    });
  }

  async updateVersionMeta(bucket: string, key: string, versionId: string, patch: ObjectMeta) {
    return this.batch.run(() => {
      const r = this.s.byId.get(bucket, key, versionId) as Row | undefined;
      if (!r) return false;
      const meta = { ...JSON.parse(r.meta), ...patch };
      for (const k of Object.keys(meta)) if (meta[k] === undefined) delete meta[k];
      this.s.updateMeta.run(JSON.stringify(meta), bucket, key, versionId);
      return true;
    });
  }

  /**
   * One lower bound on `key` (the greatest of prefix, fromKey and afterKey in
   * byte order), so the index range starts where the page does: given several,
   * SQLite may range over the smallest and filter its way to the page.
   */
  async listVersions(bucket: string, q: ListVersionsQuery) {
    const where = ['bucket = ?'];
    const args: unknown[] = [bucket];
    if (q.latestOnly) where.push('is_latest = 1 AND delete_marker = 0');
    const lows = [q.prefix, q.fromKey, q.afterKey].filter((k): k is string => k !== undefined);
    const low = lows.reduce<string | undefined>((a, b) => (a === undefined || Buffer.compare(Buffer.from(b), Buffer.from(a)) > 0 ? b : a), undefined);
    if (low !== undefined) {
      where.push('key >= ?');
      args.push(low);
    }
    const end = q.prefix ? prefixEnd(q.prefix) : undefined;
    if (end !== undefined) {
      where.push('key < ?');
      args.push(end);
    }
    if (q.afterKey !== undefined && q.afterKey === low) {
      if (q.afterSeq !== undefined) {
        where.push('(key > ? OR (key = ? AND seq < ?))');
        args.push(q.afterKey, q.afterKey, q.afterSeq);
      } else {
        where.push('key > ?');
        args.push(q.afterKey);
      }
    }
    args.push(q.limit);
    const sql = `SELECT * FROM versions WHERE ${where.join(' AND ')} ORDER BY key, seq DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(toVersion);
  }

  // ---- uploads ----

  async createUpload(u: UploadRow, bucketId?: string) {
    await this.batch.run(() => {
      this.checkBucket(u.bucket, bucketId);
      this.s.uploadInsert.run(u.uploadId, u.bucket, u.key, u.initiated, JSON.stringify(u.meta), u.bucket, u.key);
    });
  }

  async getUpload(uploadId: string) {
    const r = this.s.uploadGet.get(uploadId) as Row | undefined;
    return r ? toUpload(r) : undefined;
  }

  async listUploads(bucket: string, q: ListUploadsQuery) {
    const where = ['bucket = ?'];
    const args: unknown[] = [bucket];
    addPrefix(where, args, q.prefix);
    if (q.fromKey !== undefined) {
      where.push('key >= ?');
      args.push(q.fromKey);
    }
    if (q.afterKey !== undefined) {
      if (q.afterUploadId !== undefined) {
        const ref = this.s.uploadGet.get(q.afterUploadId) as Row | undefined;
        if (ref && ref.key === q.afterKey) {
          where.push('(key > ? OR (key = ? AND seq > ?))');
          args.push(q.afterKey, q.afterKey, ref.seq);
        } else {
          where.push('key > ?');
          args.push(q.afterKey);
        }
      } else {
        where.push('key > ?');
        args.push(q.afterKey);
      }
    }
    args.push(q.limit);
    const sql = `SELECT * FROM uploads WHERE ${where.join(' AND ')} ORDER BY key, seq LIMIT ?`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(toUpload);
  }

  async putPart(a: PutPartArgs) {
    return this.batch.run(() => {
      const u = this.s.uploadGet.get(a.part.uploadId) as Row | undefined;
      a.check?.(u ? toUpload(u) : undefined);
      if (!u) throw new Error('putPart: upload missing and check did not throw');
      const now = Date.now();
      this.addBlobs(a.newBlobs, now);
      const old = this.s.partGet.get(a.part.uploadId, a.part.partNumber) as Row | undefined;
      const p = a.part;
      this.s.partUpsert.run(p.uploadId, p.partNumber, p.size, p.etag, p.lastModified, JSON.stringify(p.manifest), JSON.stringify(p.meta));
      this.ref(p.manifest);
      const replaced = old ? toPart(old) : undefined;
      if (replaced) this.unref(replaced.manifest, now);
      return { replaced };
    });
  }

  async listParts(uploadId: string, afterPart: number, limit: number) {
    return (this.s.partsAfter.all(uploadId, afterPart, limit) as Row[]).map(toPart);
  }

  async getPart(uploadId: string, partNumber: number) {
    const r = this.s.partGet.get(uploadId, partNumber) as Row | undefined;
    return r ? toPart(r) : undefined;
  }

  /** Inside a transaction: drops the upload, its parts and their references. */
  private dropUpload(uploadId: string, now: number): boolean {
    if (!this.s.uploadGet.get(uploadId)) return false;
    for (const r of this.s.partsAll.all(uploadId) as Row[]) this.unref(JSON.parse(r.manifest), now);
    this.s.partsDelete.run(uploadId);
    this.s.uploadDelete.run(uploadId);
    return true;
  }

  async abortUpload(uploadId: string) {
    return this.batch.run(() => this.dropUpload(uploadId, Date.now()));
  }

  async completeUpload(a: CompleteArgs) {
    return this.batch.run(() => {
      const seqBefore = this.seq;
      try {
        this.checkBucket(a.bucket, a.bucketId);
        const u = this.s.uploadGet.get(a.uploadId) as Row | undefined;
        const parts = new Map<number, PartRow>();
        if (u) for (const r of this.s.partsAll.all(a.uploadId) as Row[]) parts.set(r.part_number, toPart(r));
        const cur = this.s.latest.get(a.bucket, a.key) as Row | undefined;
        const v = a.build(u ? toUpload(u) : undefined, parts, cur ? toVersion(cur) : undefined);
        const now = Date.now();
        // Reference the new manifest before dropping the parts, so shared blobs never touch zero.
        const { seq } = this.writeVersion(a.bucket, a.key, a.versionId, a.mode, v, now);
        this.dropUpload(a.uploadId, now);
        this.s.completedInsert.run(a.uploadId, a.fingerprint, JSON.stringify(a.result), now);
        return toVersion(this.db.prepare('SELECT * FROM versions WHERE bucket = ? AND key = ? AND seq = ?').get(a.bucket, a.key, seq) as Row);
      } catch (e) {
        this.seq = seqBefore;
        throw e;
      }
    });
  }

  async getCompleted(uploadId: string): Promise<CompletedRecord | undefined> {
    const r = this.s.completedGet.get(uploadId) as Row | undefined;
    return r ? { uploadId: r.upload_id, fingerprint: r.fingerprint, result: JSON.parse(r.result), completedAt: r.completed_at } : undefined;
  }

  async pruneCompleted(before: number) {
    await this.batch.run(() => this.s.completedPrune.run(before));
  }

  // ---- blobs ----

  async getBlob(id: string) {
    const r = this.s.blobGet.get(id) as Row | undefined;
    return r ? toBlob(r) : undefined;
  }

  async takeGarbage(before: number, limit: number) {
    return this.batch.run(() => {
      const rows = (this.s.garbage.all(before, limit) as Row[]).map(toBlob);
      for (const b of rows) this.s.blobDelete.run(b.id);
      return rows;
    });
  }

  async knownBlobs(ids: string[]) {
    const known = new Set<string>();
    for (const id of ids) if (this.s.blobGet.get(id)) known.add(id);
    return known;
  }

  async claimOrphans(ids: string[], now: number) {
    if (ids.length === 0) return [];
    return this.batch.run(() => ids.filter((id) => !this.s.blobGet.get(id) && this.s.tombstoneInsert.run(id, now).changes === 1));
  }

  async pruneTombstones(before: number) {
    return this.batch.run(() => this.s.tombstonesPrune.run(before).changes);
  }

  async staleUploads(bucket: string, prefix: string, before: number) {
    return (this.s.stale.all(bucket, prefix, prefixEnd(prefix) ?? '\u{10ffff}\u{10ffff}', before) as Row[]).map(toUpload);
  }

  // ---- accounts ----

  async accountsGeneration() {
    return (this.s.accountsGen.get() as Row).generation as number;
  }

  async loadAccounts(): Promise<AccountsSnapshot> {
    const read = this.db.transaction(() => ({
      generation: (this.s.accountsGen.get() as Row).generation as number,
      accounts: (this.s.accountsAll.all() as Row[]).map(toAccount),
      keys: (this.s.keysAll.all() as Row[]).map(toKey),
    }));
    return read();
  }

  async putAccount(a: AccountRow, check?: (existing: AccountRow | undefined) => void) {
    await this.batch.run(() => {
      const r = this.s.accountGet.get(a.accountId) as Row | undefined;
      check?.(r ? toAccount(r) : undefined);
      this.s.accountUpsert.run(a.accountId, a.canonicalId, a.displayName, a.email ?? null, a.createdAt);
      this.s.accountsBump.run();
    });
  }

  async deleteAccount(accountId: string, check?: (existing: AccountRow) => void) {
    return this.batch.run(() => {
      const r = this.s.accountGet.get(accountId) as Row | undefined;
      if (!r) return false;
      check?.(toAccount(r));
      this.s.accountDelete.run(accountId);
      this.s.keysRevokeAccount.run(accountId);
      this.s.accountsBump.run();
      return true;
    });
  }

  async putAccessKey(k: AccessKeyRow, check?: (existing: AccessKeyRow | undefined) => void) {
    await this.batch.run(() => {
      const r = this.s.keyGet.get(k.accessKeyId) as Row | undefined;
      check?.(r ? toKey(r) : undefined);
      this.s.keyUpsert.run(k.accessKeyId, k.accountId, k.secret, k.status, k.createdAt);
      this.s.accountsBump.run();
    });
  }

}
