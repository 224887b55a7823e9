import type { Handler } from '../http/context.js';
import * as buckets from './buckets.js';
import * as objects from './objects.js';
import * as tagging from './tagging.js';
import * as multipart from './multipart.js';
import * as copy from './copy.js';
import * as restore from './restore.js';
import * as multipartComplete from './multipart-complete.js';
import * as multipartList from './multipart-list.js';
import * as lifecycle from './lifecycle.js';
import * as list from './list.js';
import * as listVersions from './list-versions.js';
import * as deleteObjects from './delete-objects.js';
import * as versioning from './versioning.js';
import * as encryption from './encryption.js';
import * as aclApi from './acl-api.js';
import * as policyApi from './policy-api.js';
import * as cors from './cors.js';
import * as requestPayment from './request-payment.js';
import { withRequestPayment } from './request-payment.js';

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
