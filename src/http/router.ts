/**
 * Routing is data: a request's method, its target (service, bucket or
 * object), the sub-resources in its query and a few key headers decide one
 * S3 operation, named as AWS names it. Rules are matched most-specific first
 * (a rule that names a sub-resource or header beats one that does not), so
 * the table's order does not matter.
 */
export type Target = 'service' | 'bucket' | 'object';

export interface Route {
  method: string;
  target: Target;
  /** Query parameters that must be present (sub-resources). */
  query?: string[];
  /** Query parameter that must equal a value, e.g. list-type=2. */
  queryEq?: [string, string];
  /** Headers that must be present. */
  header?: string;
  op: string;
}

const r = (method: string, target: Target, op: string, extra: Partial<Route> = {}): Route => ({ method, target, op, ...extra });
const q = (...names: string[]) => ({ query: names });

/** Bucket sub-resources with Get/Put/Delete operations named `<Verb>Bucket<Name>`. */
const BUCKET_CONFIG: Array<[string, string, string[]]> = [
  ['tagging', 'Tagging', ['GET', 'PUT', 'DELETE']],
  ['lifecycle', 'LifecycleConfiguration', ['GET', 'PUT', 'DELETE']],
  ['policy', 'Policy', ['GET', 'PUT', 'DELETE']],
  ['cors', 'Cors', ['GET', 'PUT', 'DELETE']],
  ['encryption', 'Encryption', ['GET', 'PUT', 'DELETE']],
  ['acl', 'Acl', ['GET', 'PUT']],
  ['ownershipControls', 'OwnershipControls', ['GET', 'PUT', 'DELETE']],
  ['publicAccessBlock', 'PublicAccessBlock', ['GET', 'PUT', 'DELETE']],
  ['website', 'Website', ['GET', 'PUT', 'DELETE']],
  ['replication', 'Replication', ['GET', 'PUT', 'DELETE']],
  ['notification', 'NotificationConfiguration', ['GET', 'PUT']],
  ['logging', 'Logging', ['GET', 'PUT']],
  ['requestPayment', 'RequestPayment', ['GET', 'PUT']],
  ['accelerate', 'AccelerateConfiguration', ['GET', 'PUT']],
  ['object-lock', 'ObjectLockConfiguration', ['GET', 'PUT']],
  ['analytics', 'AnalyticsConfiguration', ['GET', 'PUT', 'DELETE']],
  ['inventory', 'InventoryConfiguration', ['GET', 'PUT', 'DELETE']],
  ['metrics', 'MetricsConfiguration', ['GET', 'PUT', 'DELETE']],
  ['intelligent-tiering', 'IntelligentTieringConfiguration', ['GET', 'PUT', 'DELETE']],
];
const VERB: Record<string, string> = { GET: 'Get', PUT: 'Put', DELETE: 'Delete' };

export const ROUTES: Route[] = [
  r('GET', 'service', 'ListBuckets'),
  r('PUT', 'bucket', 'CreateBucket'),
  r('HEAD', 'bucket', 'HeadBucket'),
  r('DELETE', 'bucket', 'DeleteBucket'),
  r('GET', 'bucket', 'ListObjects'),
  r('GET', 'bucket', 'ListObjectsV2', { queryEq: ['list-type', '2'] }),
  r('GET', 'bucket', 'GetBucketLocation', q('location')),
  r('GET', 'bucket', 'GetBucketVersioning', q('versioning')),
  r('PUT', 'bucket', 'PutBucketVersioning', q('versioning')),
  r('GET', 'bucket', 'ListObjectVersions', q('versions')),
  r('GET', 'bucket', 'ListMultipartUploads', q('uploads')),
  r('POST', 'bucket', 'DeleteObjects', q('delete')),
  r('POST', 'bucket', 'PostObject'),
  ...BUCKET_CONFIG.flatMap(([sub, name, verbs]) => verbs.map((m) => r(m, 'bucket', `${VERB[m]}Bucket${name}`, q(sub)))),
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
  r('GET', 'object', 'GetObjectTagging', q('tagging')),
  r('PUT', 'object', 'PutObjectTagging', q('tagging')),
  r('DELETE', 'object', 'DeleteObjectTagging', q('tagging')),
  r('GET', 'object', 'GetObjectAcl', q('acl')),
  r('PUT', 'object', 'PutObjectAcl', q('acl')),
  r('GET', 'object', 'GetObjectAttributes', q('attributes')),
  r('POST', 'object', 'RestoreObject', q('restore')),
  r('POST', 'object', 'SelectObjectContent', q('select')),
  r('GET', 'object', 'GetObjectRetention', q('retention')),
  r('PUT', 'object', 'PutObjectRetention', q('retention')),
  r('GET', 'object', 'GetObjectLegalHold', q('legal-hold')),
  r('PUT', 'object', 'PutObjectLegalHold', q('legal-hold')),
  r('GET', 'object', 'GetObjectTorrent', q('torrent')),
];

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
export function route(input: RouteInput): string | undefined {
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
