/**
 * Routing is data: a request's method, its target (service, bucket or
 * object), the sub-resources in its query and a few key headers decide one
 * S3 operation, named as AWS names it. Rules are matched most-specific first
 * (a rule that names a sub-resource or header beats one that does not), so
 * the table's order does not matter. Operation names are typed: the
 * Operation union (src/api/operations.ts, where api/ can import it) and the
 * table must agree.
 */
import type { Operation } from '../api/operations.js';

export type Target = 'service' | 'bucket' | 'object';
export type Method = 'GET' | 'PUT' | 'HEAD' | 'DELETE' | 'POST';

export interface Route<Op extends Operation = Operation> {
  method: Method;
  target: Target;
  /** Query parameters that must be present (sub-resources). */
  query?: string[];
  /** Query parameter that must equal a value, e.g. list-type=2. */
  queryEq?: [string, string];
  /** Headers that must be present. */
  header?: string;
  op: Op;
}

type Selector = Pick<Route, 'query' | 'queryEq' | 'header'>;
const r = <Op extends Operation>(method: Method, target: Target, op: Op, selector: Selector = {}): Route<Op> => ({ method, target, op, ...selector });
const q = (...names: string[]): Selector => ({ query: names });

/** A sub-resource (`?<sub>`) read with GET, written with PUT and, when it has a third operation, removed with DELETE. */
function subresource<G extends Operation, P extends Operation, D extends Operation = never>(target: Target, sub: string, get: G, put: P, del?: D) {
  const rows: Route<G | P | D>[] = [r('GET', target, get, q(sub)), r('PUT', target, put, q(sub))];
  if (del) rows.push(r('DELETE', target, del, q(sub)));
  return rows;
}

/**
 * A bucket configuration kept by id (`?<sub>&id=`): a GET without `id` lists
 * them (`ListBucket<Name>Configurations`), one with it gets one; PUT and
 * DELETE name one. The names are template literal types, checked as any other.
 */
function byId<N extends 'Analytics' | 'Inventory' | 'Metrics' | 'IntelligentTiering'>(name: N, sub: string) {
  return [
    r('GET', 'bucket', `ListBucket${name}Configurations` as const, q(sub)),
    r('GET', 'bucket', `GetBucket${name}Configuration` as const, q(sub, 'id')),
    r('PUT', 'bucket', `PutBucket${name}Configuration` as const, q(sub)),
    r('DELETE', 'bucket', `DeleteBucket${name}Configuration` as const, q(sub)),
  ] as const;
}

/**
 * The route table. Each rule names its operation literally, as AWS names it
 * (most bucket configurations are `<Verb>Bucket<Name>`, but not all:
 * DeleteBucketLifecycle, Get/Put/DeletePublicAccessBlock,
 * Get/PutObjectLockConfiguration). A GET of the analytics, inventory,
 * metrics or intelligent-tiering sub-resource names one configuration by
 * `id`; without it, it lists them.
 */
export const ROUTES = [
  r('GET', 'service', 'ListBuckets'),
  r('PUT', 'bucket', 'CreateBucket'),
  r('HEAD', 'bucket', 'HeadBucket'),
  r('DELETE', 'bucket', 'DeleteBucket'),
  r('GET', 'bucket', 'ListObjects'),
  r('GET', 'bucket', 'ListObjectsV2', { queryEq: ['list-type', '2'] }),
  r('GET', 'bucket', 'GetBucketLocation', q('location')),
  ...subresource('bucket', 'versioning', 'GetBucketVersioning', 'PutBucketVersioning'),
  r('GET', 'bucket', 'ListObjectVersions', q('versions')),
  r('GET', 'bucket', 'ListMultipartUploads', q('uploads')),
  r('POST', 'bucket', 'DeleteObjects', q('delete')),
  r('POST', 'bucket', 'PostObject'),
  ...subresource('bucket', 'tagging', 'GetBucketTagging', 'PutBucketTagging', 'DeleteBucketTagging'),
  ...subresource('bucket', 'lifecycle', 'GetBucketLifecycleConfiguration', 'PutBucketLifecycleConfiguration', 'DeleteBucketLifecycle'),
  r('GET', 'bucket', 'GetBucketPolicy', q('policy')),
  r('GET', 'bucket', 'GetBucketPolicyStatus', q('policyStatus')),
  r('PUT', 'bucket', 'PutBucketPolicy', q('policy')),
  r('DELETE', 'bucket', 'DeleteBucketPolicy', q('policy')),
  ...subresource('bucket', 'cors', 'GetBucketCors', 'PutBucketCors', 'DeleteBucketCors'),
  ...subresource('bucket', 'encryption', 'GetBucketEncryption', 'PutBucketEncryption', 'DeleteBucketEncryption'),
  ...subresource('bucket', 'acl', 'GetBucketAcl', 'PutBucketAcl'),
  ...subresource('bucket', 'ownershipControls', 'GetBucketOwnershipControls', 'PutBucketOwnershipControls', 'DeleteBucketOwnershipControls'),
  ...subresource('bucket', 'publicAccessBlock', 'GetPublicAccessBlock', 'PutPublicAccessBlock', 'DeletePublicAccessBlock'),
  ...subresource('bucket', 'website', 'GetBucketWebsite', 'PutBucketWebsite', 'DeleteBucketWebsite'),
  ...subresource('bucket', 'replication', 'GetBucketReplication', 'PutBucketReplication', 'DeleteBucketReplication'),
  ...subresource('bucket', 'notification', 'GetBucketNotificationConfiguration', 'PutBucketNotificationConfiguration'),
  ...subresource('bucket', 'logging', 'GetBucketLogging', 'PutBucketLogging'),
  ...subresource('bucket', 'requestPayment', 'GetBucketRequestPayment', 'PutBucketRequestPayment'),
  ...subresource('bucket', 'accelerate', 'GetBucketAccelerateConfiguration', 'PutBucketAccelerateConfiguration'),
  ...subresource('bucket', 'object-lock', 'GetObjectLockConfiguration', 'PutObjectLockConfiguration'),
  ...byId('Analytics', 'analytics'),
  ...byId('Inventory', 'inventory'),
  ...byId('Metrics', 'metrics'),
  ...byId('IntelligentTiering', 'intelligent-tiering'),
  r('PUT', 'object', 'PutObject'),
  r('PUT', 'object', 'CopyObject', { header: 'x-amz-copy-source' }),
  r('PUT', 'object', 'UploadPart', q('partNumber', 'uploadId')),
  r('PUT', 'object', 'UploadPartCopy', { query: ['partNumber', 'uploadId'], header: 'x-amz-copy-source' }),
  r('GET', 'object', 'GetObject'),
  r('HEAD', 'object', 'HeadObject'),
  r('DELETE', 'object', 'DeleteObject'),
  r('POST', 'object', 'CreateMultipartUpload', q('uploads')),
  r('POST', 'object', 'CompleteMultipartUpload', q('uploadId')),
  r('DELETE', 'object', 'AbortMultipartUpload', q('uploadId')),
  r('GET', 'object', 'ListParts', q('uploadId')),
  ...subresource('object', 'tagging', 'GetObjectTagging', 'PutObjectTagging', 'DeleteObjectTagging'),
  ...subresource('object', 'acl', 'GetObjectAcl', 'PutObjectAcl'),
  r('GET', 'object', 'GetObjectAttributes', q('attributes')),
  r('POST', 'object', 'RestoreObject', q('restore')),
  r('POST', 'object', 'SelectObjectContent', q('select')),
  ...subresource('object', 'retention', 'GetObjectRetention', 'PutObjectRetention'),
  ...subresource('object', 'legal-hold', 'GetObjectLegalHold', 'PutObjectLegalHold'),
  r('GET', 'object', 'GetObjectTorrent', q('torrent')),
] as const;

/** The operations the table routes to: what route() can answer. */
export type RoutedOperation = (typeof ROUTES)[number]['op'];

/**
 * Every Operation is routed but PreflightRequest (dispatch names every
 * OPTIONS request so): an operation added to api/operations.ts without a
 * rule here fails to compile, naming it; a rule naming anything else fails
 * at its `r(...)`.
 */
type Unrouted = Exclude<Operation, RoutedOperation | 'PreflightRequest'>;
export const EVERY_OPERATION_ROUTED: [Unrouted] extends [never] ? true : Unrouted = true;

function specificity(route: Route): number {
  return (route.query?.length ?? 0) * 2 + (route.queryEq ? 1 : 0) + (route.header ? 1 : 0);
}

const SORTED = [...ROUTES].sort((a, b) => specificity(b) - specificity(a));

export interface RouteInput {
  method: string;
  target: Target;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
}

/** The operation a request names, or undefined when no rule matches (MethodNotAllowed). */
export function route(input: RouteInput): RoutedOperation | undefined {
  for (const rt of SORTED) {
    if (rt.method !== input.method || rt.target !== input.target) continue;
    if (rt.query && !rt.query.every((name) => input.query.has(name))) continue;
    if (rt.queryEq && input.query.get(rt.queryEq[0]) !== rt.queryEq[1]) continue;
    if (rt.header && input.headers[rt.header] === undefined) continue;
    return rt.op;
  }
  return undefined;
}

export interface Address {
  bucket?: string;
  key?: string;
}

/**
 * Splits a request into bucket and key. Virtual-hosted style when the Host
 * header is `<bucket>.<domain>` for a configured domain; path style otherwise.
 * The key is percent-decoded from the raw path (never `+` to space: that is a
 * form encoding, not a path one).
 */
export function address(rawPath: string, host: string | undefined, domains: string[]): Address {
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  let vhostBucket: string | undefined;
  // The longest matching domain wins: `b.s3.localhost` is bucket `b` under `s3.localhost`, not `b.s3` under `localhost`.
  for (const d of domains) {
    if (hostname.endsWith('.' + d) && (vhostBucket === undefined || hostname.length - d.length - 1 < vhostBucket.length)) {
      vhostBucket = hostname.slice(0, -d.length - 1);
    }
  }
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (vhostBucket !== undefined) {
    return { bucket: vhostBucket, key: path === '' ? undefined : decodeURIComponent(path) };
  }
  if (path === '') return {};
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: decodeURIComponent(path) };
  const key = path.slice(slash + 1);
  return { bucket: decodeURIComponent(path.slice(0, slash)), key: key === '' ? undefined : decodeURIComponent(key) };
}
