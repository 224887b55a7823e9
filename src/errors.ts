/**
 * The one S3 error table. Every error Tessera answers with is named here with
 * its HTTP status and AWS's default message; a throw site names a code and, where
 * AWS does, extra elements (ArgumentName, Condition, ProposedSize, ...). One
 * place (http/respond.ts) renders the `<Error>` document.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 */
export const ERRORS = {
  AccessDenied: [403, 'Access Denied'],
  AccessControlListNotSupported: [400, 'The bucket does not allow ACLs'],
  AccessForbidden: [403, 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.'],
  InvalidBucketAclWithObjectOwnership: [400, 'Bucket cannot have ACLs set with ObjectOwnership\'s BucketOwnerEnforced setting'],
  InvalidBucketOwnerAWSAccountID: [400, 'The value of the expected bucket owner parameter must be an AWS Account ID...'],
  NoSuchPublicAccessBlockConfiguration: [404, 'The public access block configuration was not found'],
  AccountProblem: [403, 'There is a problem with your AWS account that prevents the operation from completing successfully.'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed.'],
  AuthorizationQueryParametersError: [400, 'Error parsing the X-Amz-Credential parameter.'],
  BadDigest: [400, 'The Content-MD5 you specified did not match what we received.'],
  BucketAlreadyExists: [409, 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty'],
  ConditionalRequestConflict: [409, 'The conditional request cannot succeed due to a conflicting operation against this resource.'],
  CORSResponse: [403, 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed size'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed size'],
  ExpiredToken: [400, 'The provided token has expired.'],
  IllegalLocationConstraintException: [400, 'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.'],
  IllegalVersioningConfigurationException: [400, 'The Versioning element must be specified'],
  IncompleteBody: [400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  InlineDataTooLarge: [400, 'Inline data exceeds the maximum allowed size.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidBucketState: [409, 'The request is not valid with the current state of the bucket.'],
  InvalidDigest: [400, 'The Content-MD5 you specified was invalid.'],
  InvalidEncryptionAlgorithmError: [400, 'The encryption request you specified is not valid. The valid value is AES256.'],
  InvalidLocationConstraint: [400, 'The specified location constraint is not valid.'],
  InvalidObjectState: [403, 'The operation is not valid for the object\'s storage class'],
  InvalidPart: [400, 'One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.'],
  InvalidPartNumber: [416, 'The requested partnumber is not satisfiable'],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'],
  InvalidPolicyDocument: [400, 'The content of the form does not meet the conditions specified in the policy document.'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidStorageClass: [400, 'The storage class you specified is not valid'],
  InvalidTag: [400, 'The TagValue you have provided is invalid'],
  InvalidToken: [400, 'The provided token is malformed or otherwise invalid.'],
  KeyTooLongError: [400, 'Your key is too long'],
  'KMS.DisabledException': [400, 'The KMS key is disabled.'],
  'KMS.KMSInvalidStateException': [400, 'The KMS key is not in a valid state.'],
  'KMS.NotFoundException': [400, 'The KMS key does not exist.'],
  MalformedACLError: [400, 'The XML you provided was not well-formed or did not validate against our published schema'],
  MalformedTrailerError: [400, 'The request contained trailing data that was not well-formed or did not conform to our published schema.'],
  MalformedPolicy: [400, 'Policies must be valid JSON and the first byte must be \'{\''],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema'],
  MaxMessageLengthExceeded: [400, 'Your request was too big.'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  MissingRequestBodyError: [400, 'Request Body is empty'],
  MissingSecurityHeader: [400, 'Your request was missing a required header'],
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchBucketPolicy: [404, 'The bucket policy does not exist'],
  NoSuchCORSConfiguration: [404, 'The CORS configuration does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchLifecycleConfiguration: [404, 'The lifecycle configuration does not exist'],
  NoSuchTagSet: [404, 'The TagSet does not exist'],
  NoSuchUpload: [404, 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'],
  NoSuchVersion: [404, 'The specified version does not exist.'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented'],
  NotModified: [304, 'Not Modified'],
  OwnershipControlsNotFoundError: [404, 'The bucket ownership controls were not found'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  RestoreAlreadyInProgress: [409, 'Object restore is already in progress'],
  RequestTimeout: [400, 'Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.'],
  RequestHeaderSectionTooLarge: [400, 'Your request header section exceeds the maximum allowed size.'],
  ServerSideEncryptionConfigurationNotFoundError: [404, 'The server side encryption configuration was not found'],
  ServiceUnavailable: [503, 'Please reduce your request rate.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
  SlowDown: [503, 'Please reduce your request rate.'],
  TooManyBuckets: [400, 'You have attempted to create more buckets than allowed'],
  UnexpectedContent: [400, 'This request does not support content'],
  UnresolvableGrantByEmailAddress: [400, 'The email address you provided does not match any account on record.'],
  XAmzContentSHA256Mismatch: [400, 'The provided \'x-amz-content-sha256\' header does not match what was computed.'],
  BadRequest: [400, 'Bad Request'],
  InvalidChunkSizeError: [403, 'Only the last chunk is allowed to have a size less than 8192 bytes'],
  NoSuchAccessPoint: [404, 'The specified accesspoint does not exist'],
  InvalidURI: [400, 'Couldn\'t parse the specified URI.'],
} as const satisfies Record<string, readonly [number, string]>;

export type S3ErrorCode = keyof typeof ERRORS;

/** Extra child elements of `<Error>`, in the order AWS prints them. */
export type ErrorFields = Record<string, string | number | undefined>;

export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly fields: ErrorFields;
  /** Headers that go with this error (e.g. x-amz-delete-marker on 404/405). */
  readonly headers: Record<string, string>;

  constructor(code: S3ErrorCode, message?: string, fields: ErrorFields = {}, headers: Record<string, string> = {}) {
    const [status, defaultMessage] = ERRORS[code];
    super(message ?? defaultMessage);
    this.code = code;
    this.status = status;
    this.fields = fields;
    this.headers = headers;
  }
}

export function isS3Error(e: unknown): e is S3Error {
  return e instanceof S3Error;
}
