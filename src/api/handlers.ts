import type { Handler } from './context.js';
import * as buckets from './bucket/bucket.js';
import * as objects from './object/object.js';
import * as tagging from './object/tagging.js';
import * as multipart from './multipart/upload.js';
import * as copy from './copy/copy.js';
import * as restore from './object/restore.js';
import * as multipartComplete from './multipart/complete.js';
import * as multipartList from './multipart/list.js';
import * as lifecycle from './bucket/lifecycle.js';
import * as list from './list/objects.js';
import * as listVersions from './list/versions.js';
import * as deleteObjects from './object/delete-objects.js';
import * as versioning from './bucket/versioning.js';
import * as encryption from './sse/bucket-encryption.js';
import * as aclApi from './access/acl-operations.js';
import * as policyApi from './access/policy-operations.js';
import * as cors from './access/cors.js';
import * as requestPayment from './access/request-payment.js';
import { withRequestPayment } from './access/request-payment.js';

/**
 * Every implemented S3 operation, by its AWS name. The router names an
 * operation; an operation missing here answers 501 NotImplemented.
 * Requester Pays (request-payment.ts) wraps the operations it applies to.
 */
export const HANDLERS: Record<string, Handler> = withRequestPayment({
  ...buckets,
  ...objects,
  ...tagging,
  ...multipart,
  ...copy,
  ...restore,
  ...multipartComplete,
  ...multipartList,
  ...lifecycle,
  ...list,
  ...listVersions,
  ...deleteObjects,
  ...versioning,
  ...encryption,
  ...aclApi,
  ...policyApi,
  ...cors,
  ...requestPayment,
} as unknown as Record<string, Handler>);
