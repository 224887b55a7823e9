import { randomBytes } from 'node:crypto';
import { S3Error } from '../../errors.js';
import { header, type Headers, type RequestContext } from '../context.js';
import type { BucketRow } from '../../meta/types.js';
import { isLoopback } from '../../config.js';
import { deriveKek, type Kek } from '../../crypto/envelope.js';
import type { KeyringEntry } from '../../crypto/keys.js';
import { DEST_PREFIX, keyCheck, matchesKeyCheck, parseCustomerKey, type CustomerKey } from '../../crypto/ssec.js';
import type { StoredMeta } from '../object/meta.js';
import type { SseReadKeys } from '../../engine/deps.js';

/**
 * Server-side encryption as S3 requests and answers it: which encryption a
 * write asks for (SSE-C triad, `x-amz-server-side-encryption`, or the
 * bucket's default), whether a read presents what the object needs, and the
 * response headers. The cryptography is in `src/crypto/`; the format in
 * `src/crypto/format.ts`.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html
 */

/** What a version (or an upload's object-to-be) records about its encryption: `StoredMeta.encryption`. */
export interface SseMeta {
  type: 'SSE-C' | 'AES256' | 'aws:kms';
  /** SSE-C: salted HMAC of the customer key (`crypto/ssec.ts`), never the key. */
  keyCheck?: string;
  /** SSE-KMS: keyring key id. */
  keyId?: string;
  /** SSE-KMS: the encryption context as sent (base64 JSON). */
  context?: string;
  bucketKey?: boolean;
}

/** The encryption a write uses: what to record, the KEK to seal data keys with, and the customer key to echo. */
export interface WriteSse {
  meta: SseMeta;
  kek: Kek;
  customer?: CustomerKey;
}

/** Key material a read needs beyond the server's own keys. */
export type { SseReadKeys } from '../../engine/deps.js';

/** The bucket default (`bucket.config.encryption`), as PutBucketEncryption stores it. */
export interface BucketEncryption {
  algorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse';
  kmsKeyId?: string;
  bucketKeyEnabled: boolean;
}

const ARG = 'x-amz-server-side-encryption';
const NOT_APPLICABLE = 'The encryption parameters are not applicable to this object.';
const NEEDS_KEY = 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.';

export function sseOf(meta: StoredMeta | undefined): SseMeta | undefined {
  return meta?.encryption as SseMeta | undefined;
}

/** SSE-C over plain HTTP is allowed when configured, and by default when listening on loopback. */
export function sseTransport(ctx: RequestContext): { secure: boolean; allowInsecure: boolean } {
  const { config } = ctx.deps;
  return { secure: ctx.secure, allowInsecure: config.allowInsecureSseC ?? isLoopback(config.host) };
}

export function customerKeyOf(ctx: RequestContext, prefix = DEST_PREFIX): CustomerKey | undefined {
  return parseCustomerKey(ctx.headers, prefix, sseTransport(ctx));
}

function kmsArn(ctx: RequestContext, id: string): string {
  return `arn:aws:kms:${ctx.deps.config.region}:${ctx.deps.config.rootAccountId}:key/${id}`;
}

/**
 * A keyring key named as AWS names KMS keys: key id, key ARN, or the
 * `alias/aws/s3` default; none names the default key. Errors are AWS's
 * (recorded in test_s3_sse_validate_kms_key and ..._key_state).
 */
export function resolveKmsKey(ctx: RequestContext, raw: string | undefined): KeyringEntry {
  const keys = ctx.deps.sseKeys;
  let entry: KeyringEntry | undefined;
  if (raw === undefined || raw === '' || raw === 'alias/aws/s3' || /^arn:aws:kms:[^:]*:[^:]*:alias\/aws\/s3$/.test(raw)) {
    entry = keys.defaultKmsKey();
  } else {
    const arn = /^arn:aws:kms:([^:]*):([^:]*):key\/(.+)$/.exec(raw);
    if (arn && arn[1] !== ctx.deps.config.region) throw new S3Error('KMS.NotFoundException', `Invalid arn ${arn[1]}`);
    const id = arn ? arn[3] : raw;
    entry = keys.kmsKey(id);
    if (!entry) {
      const uuidLike = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
      throw new S3Error('KMS.NotFoundException', arn || uuidLike ? `Key '${kmsArn(ctx, id)}' does not exist` : `Invalid keyId '${raw}'`);
    }
  }
  if (entry.state === 'Disabled') throw new S3Error('KMS.DisabledException', `${kmsArn(ctx, entry.id)} is disabled.`);
  if (entry.state === 'PendingDeletion') {
    throw new S3Error('KMS.KMSInvalidStateException', `${kmsArn(ctx, entry.id)} is pending deletion.`);
  }
  return entry;
}

function parseContext(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let ok = false;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
    ok = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new S3Error('InvalidArgument', "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map", { ArgumentName: 'x-amz-server-side-encryption-context' });
  }
  return raw;
}

function kmsWrite(ctx: RequestContext, keyId: string | undefined, bucketKey: boolean | undefined): WriteSse {
  const entry = resolveKmsKey(ctx, keyId);
  const context = parseContext(header(ctx, 'x-amz-server-side-encryption-context'));
  const meta: SseMeta = { type: 'aws:kms', keyId: entry.id };
  if (context) meta.context = context;
  if (bucketKey) meta.bucketKey = true;
  return { meta, kek: ctx.deps.sseKeys.kmsKek(entry, context) };
}

/** The KEK that reads and rewraps data keys of an SSE-S3 or SSE-KMS object (SSE-C needs the customer's key). */
export function serverKek(ctx: RequestContext, sse: SseMeta): Kek {
  if (sse.type === 'AES256') return ctx.deps.sseKeys.masterKek();
  if (sse.type === 'aws:kms') return ctx.deps.sseKeys.kmsKek(resolveKmsKey(ctx, sse.keyId), sse.context);
  throw new Error('SSE-C keys come from the request');
}

/**
 * The encryption of a new object (PutObject, CreateMultipartUpload, CopyObject
 * destination): the SSE-C triad, else `x-amz-server-side-encryption` (with
 * its KMS key id, context and bucket-key headers), else the bucket default;
 * undefined when the object is stored as it arrives.
 */
export function writeSse(ctx: RequestContext, bucket: BucketRow): WriteSse | undefined {
  const requested = header(ctx, 'x-amz-server-side-encryption');
  const customer = customerKeyOf(ctx);
  if (customer && requested !== undefined) {
    throw new S3Error('InvalidArgument', 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified', { ArgumentName: ARG, ArgumentValue: requested });
  }
  if (customer) return { meta: { type: 'SSE-C', keyCheck: keyCheck(customer.key) }, kek: deriveKek('c', customer.key), customer };
  const kmsKeyId = header(ctx, 'x-amz-server-side-encryption-aws-kms-key-id');
  const bucketKeyRaw = header(ctx, 'x-amz-server-side-encryption-bucket-key-enabled');
  const bucketKey = bucketKeyRaw === undefined ? undefined : bucketKeyRaw.toLowerCase() === 'true';
  if (requested !== undefined) {
    if (requested === 'AES256') {
      if (kmsKeyId !== undefined) {
        throw new S3Error('InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', { ArgumentName: ARG, ArgumentValue: requested });
      }
      return { meta: { type: 'AES256' }, kek: ctx.deps.sseKeys.masterKek() };
    }
    if (requested === 'aws:kms' || requested === 'aws:kms:dsse') return kmsWrite(ctx, kmsKeyId, bucketKey);
    throw new S3Error('InvalidArgument', 'The encryption method specified is not supported', { ArgumentName: ARG, ArgumentValue: requested });
  }
  if (kmsKeyId !== undefined) {
    throw new S3Error('InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', { ArgumentName: ARG });
  }
  const def = bucket.config.encryption as BucketEncryption | undefined;
  if (!def) return undefined;
  if (def.algorithm === 'AES256') return { meta: { type: 'AES256' }, kek: ctx.deps.sseKeys.masterKek() };
  return kmsWrite(ctx, def.kmsKeyId, bucketKey ?? def.bucketKeyEnabled);
}

/**
 * The encryption of a part (UploadPart, UploadPartCopy destination): the
 * upload's. An SSE-C upload needs the same key on every part, and a part of
 * any other upload may not bring one (recorded: test_multipart_upload_sse_c_validation).
 */
export function partSse(ctx: RequestContext, sse: SseMeta | undefined): WriteSse | undefined {
  const customer = customerKeyOf(ctx);
  const initiateAsked = 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.';
  if (sse?.type === 'SSE-C') {
    if (!customer) throw new S3Error('InvalidRequest', initiateAsked);
    if (!matchesKeyCheck(customer.key, sse.keyCheck ?? '')) {
      throw new S3Error('InvalidRequest', 'The provided encryption parameters did not match the ones used originally.');
    }
    return { meta: sse, kek: deriveKek('c', customer.key), customer };
  }
  if (customer) throw new S3Error('InvalidRequest', initiateAsked);
  if (!sse) return undefined;
  return { meta: sse, kek: serverKek(ctx, sse) };
}

/**
 * Checks a read (GetObject, HeadObject, or a copy's source with the
 * copy-source triad) against the object's encryption; returns the keys to
 * decrypt with. `body` says whether the bytes will be read (not for HEAD). Errors are AWS's (recorded in test_object_retrieval_sse_c).
 */
export function readSse(ctx: RequestContext, sse: SseMeta | undefined, opts: { prefix?: string; body: boolean }): { keys: SseReadKeys; customer?: CustomerKey } {
  const customer = customerKeyOf(ctx, opts.prefix ?? DEST_PREFIX);
  if (sse?.type !== 'SSE-C') {
    if (customer) throw new S3Error('InvalidRequest', NOT_APPLICABLE);
    // Reading the bytes needs the KMS key usable (disabled, pending deletion: recorded errors); HEAD does not.
    if (sse?.type === 'aws:kms' && opts.body) resolveKmsKey(ctx, sse.keyId);
    return { keys: { context: sse?.context } };
  }
  if (!customer) throw new S3Error('InvalidRequest', NEEDS_KEY);
  if (!matchesKeyCheck(customer.key, sse.keyCheck ?? '')) {
    throw new S3Error('AccessDenied', 'Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.');
  }
  return { keys: { customer: customer.key }, customer };
}

/** The response headers that describe an object's encryption (writes add the KMS context). */
export function sseHeaders(ctx: RequestContext, sse: SseMeta | undefined, customer?: CustomerKey, opts: { context?: boolean } = {}): Headers {
  if (!sse) return {};
  if (sse.type === 'SSE-C') {
    return { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', 'x-amz-server-side-encryption-customer-key-md5': customer?.keyMd5 };
  }
  if (sse.type === 'AES256') return { 'x-amz-server-side-encryption': 'AES256' };
  const h: Headers = { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': kmsArn(ctx, sse.keyId ?? '') };
  if (sse.bucketKey) h['x-amz-server-side-encryption-bucket-key-enabled'] = 'true';
  if (opts.context && sse.context) h['x-amz-server-side-encryption-context'] = sse.context;
  return h;
}

/**
 * The ETag of an object or part written with this encryption: the MD5 of
 * the plaintext, except under SSE-C and SSE-KMS, where AWS's ETag is not the
 * MD5 of the data (it would reveal a digest of the plaintext); Tessera then
 * uses 128 random bits, as unique as an MD5 and revealing nothing.
 */
export function sseEtag(sse: SseMeta | undefined, md5: Buffer): string {
  if (sse && sse.type !== 'AES256') return randomBytes(16).toString('hex');
  return md5.toString('hex');
}
