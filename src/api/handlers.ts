import type { HandlerTable } from './operations.js';
import { CreateBucket, DeleteBucket, GetBucketLocation, HeadBucket, ListBuckets } from './bucket/bucket.js';
import { DeleteBucketTagging, GetBucketTagging, PutBucketTagging } from './bucket/tagging.js';
import { DeleteBucketLifecycle, GetBucketLifecycleConfiguration, PutBucketLifecycleConfiguration } from './bucket/lifecycle.js';
import { GetBucketVersioning, PutBucketVersioning } from './bucket/versioning.js';
import { ListObjects, ListObjectsV2 } from './list/objects.js';
import { ListObjectVersions } from './list/versions.js';
import { DeleteObject, GetObject, HeadObject, PutObject } from './object/object.js';
import { DeleteObjects } from './object/delete-objects.js';
import { DeleteObjectTagging, GetObjectTagging, PutObjectTagging } from './object/tagging.js';
import { RestoreObject } from './object/restore.js';
import { GetObjectAttributes } from './object/attributes.js';
import { CopyObject, UploadPartCopy } from './copy/copy.js';
import { AbortMultipartUpload, CreateMultipartUpload, UploadPart } from './multipart/upload.js';
import { CompleteMultipartUpload } from './multipart/complete.js';
import { ListMultipartUploads, ListParts } from './multipart/list.js';
import { DeleteBucketEncryption, GetBucketEncryption, PutBucketEncryption } from './sse/bucket-encryption.js';
import {
  DeleteBucketOwnershipControls, DeletePublicAccessBlock, GetBucketAcl, GetBucketOwnershipControls, GetObjectAcl, GetPublicAccessBlock,
  PutBucketAcl, PutBucketOwnershipControls, PutObjectAcl, PutPublicAccessBlock,
} from './access/acl-operations.js';
import { DeleteBucketPolicy, GetBucketPolicy, GetBucketPolicyStatus, PutBucketPolicy } from './access/policy-operations.js';
import { DeleteBucketCors, GetBucketCors, PreflightRequest, PutBucketCors } from './access/cors.js';
import { GetBucketRequestPayment, PutBucketRequestPayment, withRequestPayment } from './access/request-payment.js';

/**
 * Every implemented S3 operation and its handler, by its AWS name. The
 * router names an operation; one missing here answers 501 NotImplemented.
 * A key that is not an Operation does not compile (`satisfies`), and
 * test/unit/router.test.ts fails on a handler exported under an operation's
 * name but not listed here.
 */
const IMPLEMENTED = {
  ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
  GetBucketTagging, PutBucketTagging, DeleteBucketTagging,
  GetBucketLifecycleConfiguration, PutBucketLifecycleConfiguration, DeleteBucketLifecycle,
  GetBucketVersioning, PutBucketVersioning,
  GetBucketEncryption, PutBucketEncryption, DeleteBucketEncryption,
  GetBucketAcl, PutBucketAcl, GetBucketOwnershipControls, PutBucketOwnershipControls, DeleteBucketOwnershipControls,
  GetPublicAccessBlock, PutPublicAccessBlock, DeletePublicAccessBlock,
  GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy, GetBucketPolicyStatus,
  GetBucketCors, PutBucketCors, DeleteBucketCors, PreflightRequest,
  GetBucketRequestPayment, PutBucketRequestPayment,
  ListObjects, ListObjectsV2, ListObjectVersions, ListMultipartUploads,
  PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject, RestoreObject, GetObjectAttributes,
  GetObjectTagging, PutObjectTagging, DeleteObjectTagging, GetObjectAcl, PutObjectAcl,
  CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts,
} satisfies HandlerTable;

export type ImplementedOperation = keyof typeof IMPLEMENTED;

/**
 * The registry dispatch runs, by the Operation the router named, with
 * Requester Pays (request-payment.ts) wrapping the operations it applies to.
 */
export const HANDLERS: HandlerTable = withRequestPayment(IMPLEMENTED);
