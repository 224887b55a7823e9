/**
 * The S3 actions of the IAM policy language and the action each S3
 * operation needs, as AWS maps them:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
 */
export type ResourceKind = 'service' | 'bucket' | 'object';

const OBJECT_ACTIONS = [
  'AbortMultipartUpload', 'BypassGovernanceRetention', 'DeleteObject', 'DeleteObjectTagging', 'DeleteObjectVersion',
  'DeleteObjectVersionTagging', 'GetObject', 'GetObjectAcl', 'GetObjectAttributes', 'GetObjectLegalHold', 'GetObjectRetention',
  'GetObjectTagging', 'GetObjectTorrent', 'GetObjectVersion', 'GetObjectVersionAcl', 'GetObjectVersionAttributes',
  'GetObjectVersionForReplication', 'GetObjectVersionTagging', 'GetObjectVersionTorrent', 'ListMultipartUploadParts',
  'ObjectOwnerOverrideToBucketOwner', 'PutObject', 'PutObjectAcl', 'PutObjectLegalHold', 'PutObjectRetention', 'PutObjectTagging',
  'PutObjectVersionAcl', 'PutObjectVersionTagging', 'ReplicateDelete', 'ReplicateObject', 'ReplicateTags', 'RestoreObject',
];
const BUCKET_ACTIONS = [
  'CreateBucket', 'DeleteBucket', 'DeleteBucketPolicy', 'DeleteBucketWebsite', 'GetAccelerateConfiguration', 'GetAnalyticsConfiguration',
  'GetBucketAcl', 'GetBucketCORS', 'GetBucketLocation', 'GetBucketLogging', 'GetBucketNotification', 'GetBucketObjectLockConfiguration',
  'GetBucketOwnershipControls', 'GetBucketPolicy', 'GetBucketPolicyStatus', 'GetBucketPublicAccessBlock', 'GetBucketRequestPayment',
  'GetBucketTagging', 'GetBucketVersioning', 'GetBucketWebsite', 'GetEncryptionConfiguration', 'GetIntelligentTieringConfiguration',
  'GetInventoryConfiguration', 'GetLifecycleConfiguration', 'GetMetricsConfiguration', 'GetReplicationConfiguration', 'ListBucket',
  'ListBucketMultipartUploads', 'ListBucketVersions', 'PutAccelerateConfiguration', 'PutAnalyticsConfiguration', 'PutBucketAcl',
  'PutBucketCORS', 'PutBucketLogging', 'PutBucketNotification', 'PutBucketObjectLockConfiguration', 'PutBucketOwnershipControls',
  'PutBucketPolicy', 'PutBucketPublicAccessBlock', 'PutBucketRequestPayment', 'PutBucketTagging', 'PutBucketVersioning',
  'PutBucketWebsite', 'PutEncryptionConfiguration', 'PutIntelligentTieringConfiguration', 'PutInventoryConfiguration',
  'PutLifecycleConfiguration', 'PutMetricsConfiguration', 'PutReplicationConfiguration',
];

/** Every action a bucket policy may name (`s3:` + name), with the kind of resource it applies to. */
export const ACTIONS: ReadonlyMap<string, ResourceKind> = new Map<string, ResourceKind>([
  ...OBJECT_ACTIONS.map((a) => [`s3:${a}`, 'object'] as const),
  ...BUCKET_ACTIONS.map((a) => [`s3:${a}`, 'bucket'] as const),
  ['s3:ListAllMyBuckets', 'service'],
]);

/** What an operation needs: the action, and the one it needs instead when a versionId names a version. */
interface Need {
  action: string;
  versioned?: string;
  kind: ResourceKind;
}

const o = (action: string, versioned?: string): Need => ({ action: `s3:${action}`, versioned: versioned && `s3:${versioned}`, kind: 'object' });
const b = (action: string): Need => ({ action: `s3:${action}`, kind: 'bucket' });

const CONFIG_ACTIONS: Array<[string, string, string, string?]> = [
  // [operation suffix, Get action, Put action, Delete action (default: the Put action)]
  ['Tagging', 'GetBucketTagging', 'PutBucketTagging'],
  ['LifecycleConfiguration', 'GetLifecycleConfiguration', 'PutLifecycleConfiguration'],
  ['Policy', 'GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy'],
  ['Cors', 'GetBucketCORS', 'PutBucketCORS'],
  ['Encryption', 'GetEncryptionConfiguration', 'PutEncryptionConfiguration'],
  ['Acl', 'GetBucketAcl', 'PutBucketAcl'],
  ['OwnershipControls', 'GetBucketOwnershipControls', 'PutBucketOwnershipControls'],
  ['PublicAccessBlock', 'GetBucketPublicAccessBlock', 'PutBucketPublicAccessBlock'],
  ['Website', 'GetBucketWebsite', 'PutBucketWebsite', 'DeleteBucketWebsite'],
  ['Replication', 'GetReplicationConfiguration', 'PutReplicationConfiguration'],
  ['NotificationConfiguration', 'GetBucketNotification', 'PutBucketNotification'],
  ['Logging', 'GetBucketLogging', 'PutBucketLogging'],
  ['RequestPayment', 'GetBucketRequestPayment', 'PutBucketRequestPayment'],
  ['AccelerateConfiguration', 'GetAccelerateConfiguration', 'PutAccelerateConfiguration'],
  ['ObjectLockConfiguration', 'GetBucketObjectLockConfiguration', 'PutBucketObjectLockConfiguration'],
  ['AnalyticsConfiguration', 'GetAnalyticsConfiguration', 'PutAnalyticsConfiguration'],
  ['InventoryConfiguration', 'GetInventoryConfiguration', 'PutInventoryConfiguration'],
  ['MetricsConfiguration', 'GetMetricsConfiguration', 'PutMetricsConfiguration'],
  ['IntelligentTieringConfiguration', 'GetIntelligentTieringConfiguration', 'PutIntelligentTieringConfiguration'],
];

export const OPERATION_ACTIONS: Readonly<Record<string, Need>> = {
  ListBuckets: { action: 's3:ListAllMyBuckets', kind: 'service' },
  CreateBucket: b('CreateBucket'),
  HeadBucket: b('ListBucket'),
  ListObjects: b('ListBucket'),
  ListObjectsV2: b('ListBucket'),
  ListObjectVersions: b('ListBucketVersions'),
  ListMultipartUploads: b('ListBucketMultipartUploads'),
  DeleteBucket: b('DeleteBucket'),
  GetBucketLocation: b('GetBucketLocation'),
  GetBucketVersioning: b('GetBucketVersioning'),
  PutBucketVersioning: b('PutBucketVersioning'),
  ...Object.fromEntries(CONFIG_ACTIONS.flatMap(([name, get, put, del]) => [
    [`GetBucket${name}`, b(get)], [`PutBucket${name}`, b(put)], [`DeleteBucket${name}`, b(del ?? put)],
  ])),
  DeleteObjects: o('DeleteObject'),
  PostObject: o('PutObject'),
  PutObject: o('PutObject'),
  CopyObject: o('PutObject'),
  CreateMultipartUpload: o('PutObject'),
  UploadPart: o('PutObject'),
  UploadPartCopy: o('PutObject'),
  CompleteMultipartUpload: o('PutObject'),
  AbortMultipartUpload: o('AbortMultipartUpload'),
  ListParts: o('ListMultipartUploadParts'),
  GetObject: o('GetObject', 'GetObjectVersion'),
  HeadObject: o('GetObject', 'GetObjectVersion'),
  SelectObjectContent: o('GetObject', 'GetObjectVersion'),
  DeleteObject: o('DeleteObject', 'DeleteObjectVersion'),
  GetObjectTagging: o('GetObjectTagging', 'GetObjectVersionTagging'),
  PutObjectTagging: o('PutObjectTagging', 'PutObjectVersionTagging'),
  DeleteObjectTagging: o('DeleteObjectTagging', 'DeleteObjectVersionTagging'),
  GetObjectAcl: o('GetObjectAcl', 'GetObjectVersionAcl'),
  PutObjectAcl: o('PutObjectAcl', 'PutObjectVersionAcl'),
  GetObjectAttributes: o('GetObjectAttributes', 'GetObjectVersionAttributes'),
  RestoreObject: o('RestoreObject'),
  GetObjectRetention: o('GetObjectRetention'),
  PutObjectRetention: o('PutObjectRetention'),
  GetObjectLegalHold: o('GetObjectLegalHold'),
  PutObjectLegalHold: o('PutObjectLegalHold'),
  GetObjectTorrent: o('GetObjectTorrent', 'GetObjectVersionTorrent'),
};

/** The action an operation needs, given whether the request names a version. */
export function actionFor(op: string, versionId: string | null): { action: string; kind: ResourceKind } | undefined {
  const need = OPERATION_ACTIONS[op];
  if (!need) return undefined;
  return { action: versionId !== null && need.versioned ? need.versioned : need.action, kind: need.kind };
}

/** Bucket and object ARNs as policies name them. */
export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}
export function objectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}
