import { S3Error } from '../../errors.js';
import { bucketOf, type Handler } from '../context.js';
import { asArray, parseXml, xmlDocument } from '../xml.js';
import { readBody } from '../body.js';
import type { BucketEncryption } from './sse.js';
import { changeBucket } from '../bucket/change.js';

/**
 * Bucket default encryption: PutBucketEncryption, GetBucketEncryption and
 * DeleteBucketEncryption. The rule is stored in the bucket's config as
 * `encryption` and applied by api/sse.ts `writeSse` to writes that ask for
 * no encryption of their own.
 *
 * One divergence from AWS, on purpose: AWS encrypts every object with SSE-S3
 * when a bucket has no rule, and GetBucketEncryption then answers that
 * default. Tessera stores objects as they arrive unless asked to encrypt, so
 * a bucket without a rule answers ServerSideEncryptionConfigurationNotFoundError
 * (AWS's answer before 2023) rather than claim an encryption it does not do.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html
 */
const ALGORITHMS = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);

function parseRule(text: string): BucketEncryption {
  const { root, value } = parseXml(text);
  if (root !== 'ServerSideEncryptionConfiguration' || typeof value !== 'object') throw new S3Error('MalformedXML');
  const rules = asArray(value.Rule);
  if (rules.length !== 1 || typeof rules[0] !== 'object') throw new S3Error('MalformedXML');
  const rule = rules[0] as Record<string, any>;
  const def = rule.ApplyServerSideEncryptionByDefault;
  if (typeof def !== 'object' || def === null || !ALGORITHMS.has(def.SSEAlgorithm)) throw new S3Error('MalformedXML');
  const kmsKeyId = typeof def.KMSMasterKeyID === 'string' && def.KMSMasterKeyID !== '' ? def.KMSMasterKeyID : undefined;
  if (kmsKeyId && def.SSEAlgorithm === 'AES256') {
    throw new S3Error('InvalidArgument', 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse', { ArgumentName: 'ApplyServerSideEncryptionByDefault' });
  }
  const bk = rule.BucketKeyEnabled;
  if (bk !== undefined && bk !== 'true' && bk !== 'false') throw new S3Error('MalformedXML');
  const out: BucketEncryption = { algorithm: def.SSEAlgorithm, bucketKeyEnabled: bk === 'true' };
  if (kmsKeyId) out.kmsKeyId = kmsKeyId;
  return out;
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html */
export const PutBucketEncryption: Handler = async (ctx) => {
  const rule = parseRule(await readBody(ctx));
  await changeBucket(ctx, { config: { encryption: rule } });
  return { status: 200 };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketEncryption.html */
export const GetBucketEncryption: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const rule = bucket.config.encryption as BucketEncryption | undefined;
  if (!rule) throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', undefined, { BucketName: bucket.name });
  const body = xmlDocument('ServerSideEncryptionConfiguration', {
    Rule: {
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: rule.algorithm, KMSMasterKeyID: rule.kmsKeyId },
      BucketKeyEnabled: rule.bucketKeyEnabled,
    },
  });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
};

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketEncryption.html */
export const DeleteBucketEncryption: Handler = async (ctx) => {
  await changeBucket(ctx, { config: { encryption: undefined } });
  return { status: 204 };
};
