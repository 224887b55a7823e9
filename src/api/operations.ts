import type { Handler } from './context.js';

/**
 * Every operation a request can name, exactly as AWS names it: the S3 API
 * operation (the SDK's `<Name>Command`), plus the two that have no SDK
 * command, the browser form upload (`PostObject`,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html) and
 * the CORS preflight (`PreflightRequest`, an OPTIONS request, named by
 * dispatch). The route table (src/http/router.ts) routes each of these but
 * PreflightRequest and nothing else: both directions are compile errors
 * there. The names live here, not in http/, so that api/ can be typed by them.
 */
export const OPERATIONS = [
  // The service
  'ListBuckets',
  // Buckets
  'CreateBucket', 'HeadBucket', 'DeleteBucket', 'ListObjects', 'ListObjectsV2', 'ListObjectVersions', 'ListMultipartUploads',
  'DeleteObjects', 'PostObject', 'GetBucketLocation', 'GetBucketVersioning', 'PutBucketVersioning',
  'GetBucketTagging', 'PutBucketTagging', 'DeleteBucketTagging',
  'GetBucketLifecycleConfiguration', 'PutBucketLifecycleConfiguration', 'DeleteBucketLifecycle',
  'GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy', 'GetBucketPolicyStatus',
  'GetBucketCors', 'PutBucketCors', 'DeleteBucketCors',
  'GetBucketEncryption', 'PutBucketEncryption', 'DeleteBucketEncryption',
  'GetBucketAcl', 'PutBucketAcl',
  'GetBucketOwnershipControls', 'PutBucketOwnershipControls', 'DeleteBucketOwnershipControls',
  'GetPublicAccessBlock', 'PutPublicAccessBlock', 'DeletePublicAccessBlock',
  'GetBucketWebsite', 'PutBucketWebsite', 'DeleteBucketWebsite',
  'GetBucketReplication', 'PutBucketReplication', 'DeleteBucketReplication',
  'GetBucketNotificationConfiguration', 'PutBucketNotificationConfiguration',
  'GetBucketLogging', 'PutBucketLogging',
  'GetBucketRequestPayment', 'PutBucketRequestPayment',
  'GetBucketAccelerateConfiguration', 'PutBucketAccelerateConfiguration',
  'GetObjectLockConfiguration', 'PutObjectLockConfiguration',
  'GetBucketAnalyticsConfiguration', 'PutBucketAnalyticsConfiguration', 'DeleteBucketAnalyticsConfiguration', 'ListBucketAnalyticsConfigurations',
  'GetBucketInventoryConfiguration', 'PutBucketInventoryConfiguration', 'DeleteBucketInventoryConfiguration', 'ListBucketInventoryConfigurations',
  'GetBucketMetricsConfiguration', 'PutBucketMetricsConfiguration', 'DeleteBucketMetricsConfiguration', 'ListBucketMetricsConfigurations',
  'GetBucketIntelligentTieringConfiguration', 'PutBucketIntelligentTieringConfiguration', 'DeleteBucketIntelligentTieringConfiguration',
  'ListBucketIntelligentTieringConfigurations',
  // Objects
  'PutObject', 'CopyObject', 'GetObject', 'HeadObject', 'DeleteObject', 'GetObjectAttributes', 'RestoreObject', 'SelectObjectContent',
  'CreateMultipartUpload', 'UploadPart', 'UploadPartCopy', 'CompleteMultipartUpload', 'AbortMultipartUpload', 'ListParts',
  'GetObjectTagging', 'PutObjectTagging', 'DeleteObjectTagging',
  'GetObjectAcl', 'PutObjectAcl',
  'GetObjectRetention', 'PutObjectRetention', 'GetObjectLegalHold', 'PutObjectLegalHold',
  'GetObjectTorrent',
  // Any target: an OPTIONS request
  'PreflightRequest',
] as const;

export type Operation = (typeof OPERATIONS)[number];

/**
 * Handlers by operation. An operation without one answers 501
 * NotImplemented; an object literal checked against this type (`satisfies
 * HandlerTable`) cannot hold a key that is not an Operation.
 */
export type HandlerTable = { readonly [Op in Operation]?: Handler };
