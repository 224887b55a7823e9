/**
 * The metadata store: one async, storage-shaped interface with an SQLite
 * (embedded) and a PostgreSQL (scale-out) implementation over one logical
 * schema. It knows buckets, object versions, multipart uploads and parts, and
 * blob references; it knows nothing of HTTP or of S3's error table.
 *
 * S3 rules that must hold atomically (conditional writes, part checks on
 * Complete) are passed in by `api/` as synchronous callbacks that run inside
 * the store's transaction and may throw; the throw aborts that operation only.
 *
 * Reference counting: every extent of every manifest (object version or part)
 * holds one reference on its blob. References are added and dropped in the
 * same transaction that creates or drops the manifest. A blob whose count
 * reaches zero is stamped `zeroSince` and deleted by the collector once a grace
 * period has passed, so a reader or a copy that looked at a manifest just
 * before it was dropped can still finish (a copy re-adds references in its own
 * transaction and fails cleanly with `BlobGone` if the collector won).
 */

/** A run of bytes in an immutable blob. */
export interface Extent {
  blob: string;
  off: number;
  len: number;
  /**
   * Encrypted blobs only: the blob's data key sealed for this manifest
   * (src/crypto/envelope.ts); off and len stay in plaintext terms. Opaque to
   * stores. Extents are copied whole, never rebuilt field by field.
   */
  dk?: string;
}

/** A blob the current operation has just written, registered in its transaction. */
export interface NewBlob {
  id: string;
  size: number;
  /** hex MD5 of the blob's stored bytes, when known (lets copies of whole blobs skip the read). */
  md5?: string;
  /**
   * CRC-64/NVME prefix checkpoints of the blob's bytes (src/util/crc-checkpoints.ts),
   * when known: a copy derives the CRC64NVME of any range of it without reading.
   */
  crc64nvme?: Buffer;
  /** Small blobs live in the metadata row itself. */
  inline?: Buffer;
}

export interface BlobRow {
  id: string;
  size: number;
  md5?: string;
  /** See NewBlob. */
  crc64nvme?: Buffer;
  refs: number;
  inline?: Buffer;
}

export type VersioningState = '' | 'Enabled' | 'Suspended';

export interface BucketRow {
  name: string;
  /**
   * The bucket's identity: random, given by the store when the bucket is
   * created and never reused. A bucket deleted and created again under the
   * same name (by anyone) is a new bucket with a new id, and a write
   * authorized against the old one commits nowhere (`BucketGone`).
   */
  id: string;
  ownerId: string;
  createdAt: number;
  region: string;
  versioning: VersioningState;
  /** Sub-resource configurations (policy, cors, lifecycle, encryption, tagging, acl, ...), as api/ shapes them. */
  config: Record<string, unknown>;
}

/** Everything about an object version beyond its bytes; shaped by api/. */
export type ObjectMeta = Record<string, unknown>;

export interface VersionRow {
  bucket: string;
  key: string;
  /** 'null' for the null version. */
  versionId: string;
  /** Monotonic order of writes within the store: the newest version has the highest seq. */
  seq: number;
  isLatest: boolean;
  deleteMarker: boolean;
  size: number;
  etag: string;
  lastModified: number;
  manifest: Extent[];
  meta: ObjectMeta;
}

/** A bucket to create: the store gives it its id unless one is named. */
export type NewBucketRow = Omit<BucketRow, 'id'> & { id?: string };

export type VersionInput = Omit<VersionRow, 'seq' | 'isLatest' | 'bucket' | 'key' | 'versionId'>;

export interface UploadRow {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  meta: ObjectMeta;
}

export interface PartRow {
  uploadId: string;
  partNumber: number;
  size: number;
  etag: string;
  lastModified: number;
  manifest: Extent[];
  meta: ObjectMeta;
}

export interface ListVersionsQuery {
  prefix?: string;
  /** Start strictly after this key (all its versions skipped)... */
  afterKey?: string;
  /** ...or, with afterSeq, strictly after that version of afterKey (newest first within a key). */
  afterSeq?: number;
  /** Start at keys >= this (used to jump past a CommonPrefix). */
  fromKey?: string;
  latestOnly: boolean;
  limit: number;
}

export interface ListUploadsQuery {
  prefix?: string;
  afterKey?: string;
  /** With afterKey: continue inside afterKey after this upload (initiation order). */
  afterUploadId?: string;
  fromKey?: string;
  limit: number;
}

/**
 * What to do with the key's existing versions when a new one is written:
 * 'append' keeps them all (versioning Enabled); 'replace-null' drops the
 * existing `null` version (unversioned or Suspended buckets).
 */
export type WriteMode = 'append' | 'replace-null';

export interface PutVersionArgs {
  bucket: string;
  /** The id of the bucket the write was authorized against (see BucketGone); the bucket must exist in any case. */
  bucketId?: string;
  key: string;
  versionId: string;
  mode: WriteMode;
  version: VersionInput;
  newBlobs: NewBlob[];
  /** Runs in the transaction with the key's current latest version; may throw to abort. */
  check?: (current: VersionRow | undefined) => void;
}

export interface PutPartArgs {
  part: PartRow;
  newBlobs: NewBlob[];
  /** Runs in the transaction with the upload (undefined if gone); may throw to abort. */
  check?: (upload: UploadRow | undefined) => void;
}

export interface CompleteArgs {
  uploadId: string;
  bucket: string;
  /** As PutVersionArgs.bucketId. */
  bucketId?: string;
  key: string;
  versionId: string;
  mode: WriteMode;
  /**
   * Runs in the transaction with the upload, its parts (by number) and the
   * key's current latest version; returns the version to write (its manifest
   * the concatenation of the chosen parts') or throws to abort.
   */
  build: (upload: UploadRow | undefined, parts: Map<number, PartRow>, current: VersionRow | undefined) => VersionInput;
  /** Remembered so a retried Complete with the same body can be answered again. */
  fingerprint: string;
  result: Record<string, unknown>;
}

export interface CompletedRecord {
  uploadId: string;
  fingerprint: string;
  result: Record<string, unknown>;
  completedAt: number;
}

/** An account: owner of buckets, principal of signed requests. */
export interface AccountRow {
  accountId: string;
  canonicalId: string;
  displayName: string;
  email?: string;
  createdAt: number;
}

/**
 * An access key. `secret` is the sealed (encrypted) secret, opaque to the
 * store; a revoked key keeps its row, with an empty secret, so that nothing
 * (an accounts file applied at the next start included) brings it back.
 */
export interface AccessKeyRow {
  accessKeyId: string;
  accountId: string;
  secret: string;
  status: 'Active' | 'Revoked';
  createdAt: number;
}

/** Every account and key, with the generation they were read at. */
export interface AccountsSnapshot {
  generation: number;
  accounts: AccountRow[];
  keys: AccessKeyRow[];
}

/**
 * Raised by a write into a bucket that is gone, or that is no longer the
 * bucket the write was authorized against (deleted, perhaps created again):
 * checked inside the write's transaction, so nothing of the write survives.
 */
export class BucketGone extends Error {
  constructor(readonly bucket: string) {
    super(`bucket ${bucket} is gone`);
  }
}

/** Raised by a write whose referenced blob was collected meanwhile; the caller re-reads and retries. */
export class BlobGone extends Error {
  constructor(readonly blob: string) {
    super(`blob ${blob} is gone`);
  }
}

export interface MetaStore {
  readonly kind: 'sqlite' | 'postgres';
  close(): Promise<void>;

  createBucket(row: NewBucketRow): Promise<{ created: true } | { created: false; existing: BucketRow }>;
  getBucket(name: string): Promise<BucketRow | undefined>;
  listBuckets(ownerId?: string): Promise<BucketRow[]>;
  /** Deletes the bucket when it holds no versions; uploads in progress go with it (their parts' references dropped). */
  deleteBucket(name: string): Promise<'deleted' | 'not-empty' | 'missing'>;
  /**
   * Sets (value !== undefined) or removes config entries; returns false if the
   * bucket is missing. With `bucketId`, throws BucketGone instead when the
   * bucket of that name is missing or is not that bucket.
   */
  updateBucket(name: string, patch: { versioning?: VersioningState; config?: Record<string, unknown | undefined> }, bucketId?: string): Promise<boolean>;

  /** The latest version of a key (versionId undefined) or a given version. */
  getVersion(bucket: string, key: string, versionId?: string): Promise<VersionRow | undefined>;
  putVersion(args: PutVersionArgs): Promise<{ dropped: VersionRow | undefined }>;
  /** Permanently removes one version; the next newest becomes latest. */
  deleteVersion(bucket: string, key: string, versionId: string): Promise<VersionRow | undefined>;
  /** Replaces meta of an existing version in place (tagging, ACL, restore state). */
  updateVersionMeta(bucket: string, key: string, versionId: string, patch: ObjectMeta): Promise<boolean>;
  listVersions(bucket: string, q: ListVersionsQuery): Promise<VersionRow[]>;

  /** Creates an upload in an existing bucket (with `bucketId`: in that bucket), else BucketGone. */
  createUpload(row: UploadRow, bucketId?: string): Promise<void>;
  getUpload(uploadId: string): Promise<UploadRow | undefined>;
  listUploads(bucket: string, q: ListUploadsQuery): Promise<UploadRow[]>;
  putPart(args: PutPartArgs): Promise<{ replaced: PartRow | undefined }>;
  listParts(uploadId: string, afterPart: number, limit: number): Promise<PartRow[]>;
  getPart(uploadId: string, partNumber: number): Promise<PartRow | undefined>;
  /** Removes the upload and its parts; false if it was not there. */
  abortUpload(uploadId: string): Promise<boolean>;
  completeUpload(args: CompleteArgs): Promise<VersionRow>;
  getCompleted(uploadId: string): Promise<CompletedRecord | undefined>;
  /** Forgets completion records older than the given time. */
  pruneCompleted(before: number): Promise<void>;

  getBlob(id: string): Promise<BlobRow | undefined>;
  /** Blobs with no reference since before `before`: removed from metadata and returned for unlinking. */
  takeGarbage(before: number, limit: number): Promise<BlobRow[]>;
  /** Which of these blob ids are known to metadata. */
  knownBlobs(ids: string[]): Promise<Set<string>>;
  /**
   * The reaper's claim on blob files that look orphaned: in one transaction,
   * each id that metadata does not know gets a tombstone row (refs -1) and is
   * returned; the caller may then delete those files. A writer whose commit
   * registers a tombstoned id fails with BlobGone, and a writer that commits
   * first makes the id known, so it is not claimed: a claim and a commit of
   * the same blob never both succeed, on any number of gateways.
   */
  claimOrphans(ids: string[], now: number): Promise<string[]>;
  /** Forgets tombstones claimed before `before`; returns how many. */
  pruneTombstones(before: number): Promise<number>;
  /** Uploads initiated before `before` whose key starts with `prefix`. */
  staleUploads(bucket: string, prefix: string, before: number): Promise<UploadRow[]>;

  /**
   * Accounts and access keys. Every change bumps a generation counter in the
   * same transaction, so a process holding a cached copy (the server, while
   * the admin CLI edits the same store) can tell cheaply that it is stale.
   */
  accountsGeneration(): Promise<number>;
  loadAccounts(): Promise<AccountsSnapshot>;
  /** Inserts or replaces an account; `check` runs in the transaction with the existing row. */
  putAccount(row: AccountRow, check?: (existing: AccountRow | undefined) => void): Promise<void>;
  /** Removes an account and revokes its keys; false if it was not there. */
  deleteAccount(accountId: string, check?: (existing: AccountRow) => void): Promise<boolean>;
  /** Inserts or replaces a key; `check` runs in the transaction with the existing row. */
  putAccessKey(row: AccessKeyRow, check?: (existing: AccessKeyRow | undefined) => void): Promise<void>;
}
