import { S3Error } from '../../errors.js';
import { bucketOf, type Handler } from '../context.js';
import { parseXml, xmlDocument } from '../xml.js';
import type { VersioningState } from '../../meta/types.js';
import { readBody } from '../body.js';
import { changeBucket } from './change.js';

/**
 * A bucket's versioning state: never set (''), Enabled or Suspended. Once set
 * it never returns to unversioned; Suspended keeps every existing version and
 * makes new writes replace the `null` version.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html
 */

/**
 * PutBucketVersioning. Recorded answers: a `Status` other than `Enabled` or
 * `Suspended` (case matters) is MalformedXML; a configuration with neither
 * Status nor MfaDelete is IllegalVersioningConfigurationException. MFA delete
 * is not something Tessera does: asking for it is NotImplemented.
 */
export const PutBucketVersioning: Handler = async (ctx) => {
  const text = await readBody(ctx);
  if (text.trim() === '') throw new S3Error('MissingRequestBodyError');
  const { root, value } = parseXml(text);
  if (root !== 'VersioningConfiguration') throw new S3Error('MalformedXML');
  const conf = typeof value === 'object' && value !== null ? value : {};
  const status = conf.Status as unknown;
  const mfa = conf.MfaDelete as unknown;
  if (status === undefined && mfa === undefined) throw new S3Error('IllegalVersioningConfigurationException');
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML');
  if (mfa !== undefined && mfa !== 'Enabled' && mfa !== 'Disabled') throw new S3Error('MalformedXML');
  if (mfa === 'Enabled' || ctx.headers['x-amz-mfa'] !== undefined) {
    throw new S3Error('NotImplemented', 'MFA delete is not implemented by Tessera', { Header: 'x-amz-mfa' });
  }
  if (status !== undefined) await changeBucket(ctx, { versioning: status as VersioningState });
  return { status: 200 };
};

/**
 * GetBucketVersioning: an empty configuration until versioning was first
 * set, then its Status.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html
 */
export const GetBucketVersioning: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const body = xmlDocument('VersioningConfiguration', { Status: bucket.versioning || undefined });
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
};
