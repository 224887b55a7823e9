import { S3Error } from '../../errors.js';
import { bucketOf, header, type Deps, type Handler } from '../context.js';
import { asArray, parseXml, xmlDocument, type XmlObject } from '../xml.js';
import { readBody } from '../body.js';
import { changeBucket } from './change.js';

/**
 * Bucket lifecycle configuration. Rules are validated as AWS validates them
 * and stored as given (bucket config `lifecycle`), so GET returns what was
 * put. Tessera applies `AbortIncompleteMultipartUpload` with a background
 * job: an upload initiated more than DaysAfterInitiation days ago (counted, as
 * AWS counts, to the next midnight UTC) under the rule's prefix is aborted.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html
 */

/** A rule as parsed from XML: element names to strings, objects or arrays. */
export type LifecycleRule = Record<string, any>;

export interface StoredLifecycle {
  rules: LifecycleRule[];
  transitionDefaultMinimumObjectSize: string;
}

const DAY = 24 * 60 * 60 * 1000;
const MAX_RULES = 1000;
const ACTIONS = ['Expiration', 'Transition', 'NoncurrentVersionExpiration', 'NoncurrentVersionTransition', 'AbortIncompleteMultipartUpload'];
const FILTER_KINDS = ['Prefix', 'Tag', 'And', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'];
const MIN_SIZE_VALUES = new Set(['all_storage_classes_128K', 'varies_by_storage_class']);

const malformed = () => new S3Error('MalformedXML');

function has(o: unknown, k: string): boolean {
  return typeof o === 'object' && o !== null && k in o;
}

function positiveDays(v: unknown, field: string, action: string): void {
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < 1) {
    throw new S3Error('InvalidArgument', `'${field}' for ${action} action must be a positive integer`, { ArgumentName: field, ArgumentValue: String(v ?? '') });
  }
}

function checkFilter(filter: unknown): void {
  if (filter === '') return;
  if (typeof filter !== 'object' || filter === null) throw malformed();
  if (FILTER_KINDS.filter((k) => has(filter, k)).length > 1) throw malformed();
  const and = (filter as LifecycleRule).And;
  if (and !== undefined) {
    const keys = asArray<any>(and?.Tag).map((t) => t?.Key);
    if (new Set(keys).size !== keys.length) throw new S3Error('InvalidRequest', 'Duplicate Tag Keys are not allowed.');
  }
}

function hasTagFilter(rule: LifecycleRule): boolean {
  const f = rule.Filter;
  return has(f, 'Tag') || (has(f, 'And') && asArray(f.And?.Tag).length > 0);
}

function checkExpiration(e: unknown): void {
  if (typeof e !== 'object' || e === null) throw malformed();
  const x = e as LifecycleRule;
  const kinds = ['Days', 'Date', 'ExpiredObjectDeleteMarker'].filter((k) => has(x, k));
  if (kinds.length !== 1) throw malformed();
  if (x.Days !== undefined) positiveDays(x.Days, 'Days', 'Expiration');
  if (x.Date !== undefined) {
    const t = Date.parse(x.Date);
    if (Number.isNaN(t)) throw malformed();
    if (t % DAY !== 0) throw new S3Error('InvalidArgument', "'Date' must be at midnight GMT", { ArgumentName: 'Date', ArgumentValue: x.Date });
  }
}

/** One `<Rule>`: AWS's structural checks (MalformedXML) and value checks. */
function checkRule(rule: unknown): LifecycleRule {
  if (typeof rule !== 'object' || rule === null) throw malformed();
  const r = rule as LifecycleRule;
  if (r.Status !== 'Enabled' && r.Status !== 'Disabled') throw malformed();
  if (has(r, 'Filter') === has(r, 'Prefix')) throw malformed();
  if (has(r, 'Filter')) checkFilter(r.Filter);
  if (typeof r.ID === 'string' && r.ID.length > 255) throw new S3Error('InvalidArgument', 'ID length should not exceed allowed limit of 255', { ArgumentName: 'ID', ArgumentValue: r.ID });
  if (!ACTIONS.some((a) => has(r, a))) throw new S3Error('InvalidRequest', 'At least one action needs to be specified in a rule');
  if (has(r, 'Expiration')) checkExpiration(r.Expiration);
  if (has(r, 'NoncurrentVersionExpiration')) {
    if (!has(r.NoncurrentVersionExpiration, 'NoncurrentDays')) throw malformed();
    positiveDays(r.NoncurrentVersionExpiration.NoncurrentDays, 'NoncurrentDays', 'NoncurrentVersionExpiration');
  }
  if (has(r, 'AbortIncompleteMultipartUpload')) {
    if (!has(r.AbortIncompleteMultipartUpload, 'DaysAfterInitiation')) throw malformed();
    positiveDays(r.AbortIncompleteMultipartUpload.DaysAfterInitiation, 'DaysAfterInitiation', 'AbortIncompleteMultipartUpload');
    if (hasTagFilter(r)) throw new S3Error('InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.');
  }
  return r;
}

/** Parses and validates a `<LifecycleConfiguration>` document. */
export function parseLifecycle(text: string): LifecycleRule[] {
  const { root, value } = parseXml(text);
  if (root !== 'LifecycleConfiguration' || typeof value !== 'object') throw malformed();
  const rules = asArray<unknown>(value.Rule);
  if (rules.length === 0 || rules.length > MAX_RULES) throw malformed();
  const checked = rules.map(checkRule);
  const ids = checked.map((r) => r.ID).filter((id) => typeof id === 'string' && id !== '');
  if (new Set(ids).size !== ids.length) throw new S3Error('InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule', { ArgumentName: 'ID', ArgumentValue: ids.find((id, i) => ids.indexOf(id) !== i) });
  return checked;
}

function lifecycleOf(config: Record<string, unknown>): StoredLifecycle | undefined {
  return config.lifecycle as StoredLifecycle | undefined;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html */
export const PutBucketLifecycleConfiguration: Handler = async (ctx) => {
  const minSize = header(ctx, 'x-amz-transition-default-minimum-object-size') ?? 'all_storage_classes_128K';
  if (!MIN_SIZE_VALUES.has(minSize)) {
    throw new S3Error('InvalidRequest', 'Invalid TransitionDefaultMinimumObjectSize found: ' + minSize);
  }
  const text = await readBody(ctx);
  if (text.trim() === '') throw new S3Error('MissingRequestBodyError');
  const rules = parseLifecycle(text);
  const lifecycle: StoredLifecycle = { rules, transitionDefaultMinimumObjectSize: minSize };
  await changeBucket(ctx, { config: { lifecycle } });
  return { status: 200, headers: { 'x-amz-transition-default-minimum-object-size': minSize } };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLifecycleConfiguration.html */
export const GetBucketLifecycleConfiguration: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const lc = lifecycleOf(bucket.config);
  if (!lc) throw new S3Error('NoSuchLifecycleConfiguration', undefined, { BucketName: bucket.name });
  const body = xmlDocument('LifecycleConfiguration', { Rule: lc.rules as XmlObject[] });
  return {
    status: 200,
    headers: { 'content-type': 'application/xml', 'x-amz-transition-default-minimum-object-size': lc.transitionDefaultMinimumObjectSize },
    body,
  };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketLifecycle.html */
export const DeleteBucketLifecycle: Handler = async (ctx) => {
  await changeBucket(ctx, { config: { lifecycle: undefined } });
  return { status: 204 };
};

/** The key prefix a rule applies to, or undefined when its filter is not a plain prefix. */
function rulePrefix(rule: LifecycleRule): string | undefined {
  if (has(rule, 'Prefix')) return String(rule.Prefix ?? '');
  const f = rule.Filter;
  if (f === '' || f === undefined) return '';
  if (has(f, 'Prefix')) return String(f.Prefix ?? '');
  if (has(f, 'And') && !hasTagFilter(rule)) return String(f.And?.Prefix ?? '');
  return has(f, 'ObjectSizeGreaterThan') || has(f, 'ObjectSizeLessThan') ? undefined : '';
}

/**
 * Aborts the uploads that AbortIncompleteMultipartUpload rules have made
 * stale at `now`: initiated at least DaysAfterInitiation days before the
 * last midnight UTC. Returns how many were aborted.
 */
export async function abortStaleUploads(deps: Deps, now: number): Promise<number> {
  let aborted = 0;
  const lastMidnight = Math.floor(now / DAY) * DAY;
  for (const bucket of await deps.meta.listBuckets()) {
    const lc = lifecycleOf(bucket.config);
    for (const rule of lc?.rules ?? []) {
      if (rule.Status !== 'Enabled' || !has(rule, 'AbortIncompleteMultipartUpload')) continue;
      const prefix = rulePrefix(rule);
      if (prefix === undefined) continue;
      const days = Number(rule.AbortIncompleteMultipartUpload.DaysAfterInitiation);
      for (const u of await deps.meta.staleUploads(bucket.name, prefix, lastMidnight - days * DAY + 1)) {
        if (await deps.meta.abortUpload(u.uploadId)) aborted++;
      }
    }
  }
  if (aborted) deps.jobs.collectSoon();
  return aborted;
}

/** Registers the lifecycle job with the server's job runner (periodic, and `runNow`). */
export function registerLifecycleJob(deps: Deps): void {
  deps.jobs.register('lifecycle', async (now) => {
    const n = await abortStaleUploads(deps, now);
    if (n) deps.log.info({ aborted: n }, 'lifecycle: aborted incomplete multipart uploads');
  });
}
