/**
 * The S3 actions of the IAM policy language and the action each S3
 * operation needs, as AWS maps them:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
 */
import type { Operation } from '../operations.js';

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

/**
 * The action each operation needs, by operation. A bucket configuration's
 * Delete needs its Put action, but for the policy and the website. The
 * Operation key type makes a misspelt operation a compile error; an
 * operation without an entry is for the bucket owner only (authorize.ts).
 */
export const OPERATION_ACTIONS = {
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
  GetBucketTagging: b('GetBucketTagging'),
  PutBucketTagging: b('PutBucketTagging'),
  DeleteBucketTagging: b('PutBucketTagging'),
  GetBucketLifecycleConfiguration: b('GetLifecycleConfiguration'),
  PutBucketLifecycleConfiguration: b('PutLifecycleConfiguration'),
  DeleteBucketLifecycle: b('PutLifecycleConfiguration'),
  GetBucketPolicy: b('GetBucketPolicy'),
  PutBucketPolicy: b('PutBucketPolicy'),
  DeleteBucketPolicy: b('DeleteBucketPolicy'),
  GetBucketPolicyStatus: b('GetBucketPolicyStatus'),
  GetBucketCors: b('GetBucketCORS'),
  PutBucketCors: b('PutBucketCORS'),
  DeleteBucketCors: b('PutBucketCORS'),
  GetBucketEncryption: b('GetEncryptionConfiguration'),
  PutBucketEncryption: b('PutEncryptionConfiguration'),
  DeleteBucketEncryption: b('PutEncryptionConfiguration'),
  GetBucketAcl: b('GetBucketAcl'),
  PutBucketAcl: b('PutBucketAcl'),
  GetBucketOwnershipControls: b('GetBucketOwnershipControls'),
  PutBucketOwnershipControls: b('PutBucketOwnershipControls'),
  DeleteBucketOwnershipControls: b('PutBucketOwnershipControls'),
  GetPublicAccessBlock: b('GetBucketPublicAccessBlock'),
  PutPublicAccessBlock: b('PutBucketPublicAccessBlock'),
  DeletePublicAccessBlock: b('PutBucketPublicAccessBlock'),
  GetBucketWebsite: b('GetBucketWebsite'),
  PutBucketWebsite: b('PutBucketWebsite'),
  DeleteBucketWebsite: b('DeleteBucketWebsite'),
  GetBucketReplication: b('GetReplicationConfiguration'),
  PutBucketReplication: b('PutReplicationConfiguration'),
  DeleteBucketReplication: b('PutReplicationConfiguration'),
  GetBucketNotificationConfiguration: b('GetBucketNotification'),
  PutBucketNotificationConfiguration: b('PutBucketNotification'),
  GetBucketLogging: b('GetBucketLogging'),
  PutBucketLogging: b('PutBucketLogging'),
  GetBucketRequestPayment: b('GetBucketRequestPayment'),
  PutBucketRequestPayment: b('PutBucketRequestPayment'),
  GetBucketAccelerateConfiguration: b('GetAccelerateConfiguration'),
  PutBucketAccelerateConfiguration: b('PutAccelerateConfiguration'),
  GetObjectLockConfiguration: b('GetBucketObjectLockConfiguration'),
  PutObjectLockConfiguration: b('PutBucketObjectLockConfiguration'),
  GetBucketAnalyticsConfiguration: b('GetAnalyticsConfiguration'),
  ListBucketAnalyticsConfigurations: b('GetAnalyticsConfiguration'),
  PutBucketAnalyticsConfiguration: b('PutAnalyticsConfiguration'),
  DeleteBucketAnalyticsConfiguration: b('PutAnalyticsConfiguration'),
  GetBucketInventoryConfiguration: b('GetInventoryConfiguration'),
  ListBucketInventoryConfigurations: b('GetInventoryConfiguration'),
  PutBucketInventoryConfiguration: b('PutInventoryConfiguration'),
  DeleteBucketInventoryConfiguration: b('PutInventoryConfiguration'),
  GetBucketMetricsConfiguration: b('GetMetricsConfiguration'),
  ListBucketMetricsConfigurations: b('GetMetricsConfiguration'),
  PutBucketMetricsConfiguration: b('PutMetricsConfiguration'),
  DeleteBucketMetricsConfiguration: b('PutMetricsConfiguration'),
  GetBucketIntelligentTieringConfiguration: b('GetIntelligentTieringConfiguration'),
  ListBucketIntelligentTieringConfigurations: b('GetIntelligentTieringConfiguration'),
  PutBucketIntelligentTieringConfiguration: b('PutIntelligentTieringConfiguration'),
  DeleteBucketIntelligentTieringConfiguration: b('PutIntelligentTieringConfiguration'),
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
} satisfies { readonly [Op in Operation]?: Need };

const NEEDS: ReadonlyMap<string, Need> = new Map(Object.entries(OPERATION_ACTIONS));

/** The action an operation needs, given whether the request names a version. */
export function actionFor(op: string, versionId: string | null): { action: string; kind: ResourceKind } | undefined {
  const need = NEEDS.get(op);
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
