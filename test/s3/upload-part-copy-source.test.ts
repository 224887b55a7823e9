import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCopyCommand,
  type S3Client, type UploadPartCopyCommandInput,
} from '@aws-sdk/client-s3';
import type { RunningServer } from '../../src/index.js';
import { bucketName, liveServer, s3Error } from '../helpers.js';
import { errorCode, raw, xmlField } from './raw-signed.js';

const md5 = (s: string | Buffer) => `"${createHash('md5').update(s).digest('hex')}"`;
const KEY = Buffer.alloc(32, 7);
const KEY_B64 = KEY.toString('base64');
const KEY_MD5 = createHash('md5').update(KEY).digest('base64');

/**
 * `x-amz-copy-source` in every form a client sends, headers the SDK cannot
 * produce (sent raw, signed), and the SSE-C triads of both sides.
 */
describe('UploadPartCopy source forms', () => {
  let s3: S3Client;
  let server: RunningServer;
  let close: () => Promise<void>;
  const Bucket = bucketName('upcs');
  let UploadId: string;

  before(async () => {
    ({ s3, server, close } = await liveServer());
    await s3.send(new CreateBucketCommand({ Bucket }));
    UploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'dst' }))).UploadId!;
  });
  after(() => close());

  const copy = (extra: Partial<UploadPartCopyCommandInput>) =>
    s3.send(new UploadPartCopyCommand({ Bucket, Key: 'dst', UploadId, PartNumber: 1, CopySource: `${Bucket}/src`, ...extra }));
  /** A signed UploadPartCopy with exactly these headers. */
  const rawCopy = (headers: Record<string, string>) =>
    raw(server, { method: 'PUT', path: `/${Bucket}/dst`, query: { partNumber: '1', uploadId: UploadId }, headers });

  it('UploadPartCopy accepts bucket/key and /bucket/key, with keys URL-encoded', async () => {
    const keys = ['plain', 'with space', 'plus+sign', '100%', 'question?mark', '?versionId=abc', 'a?versionId=b', 'ü/ñ/😀', 'a//b///c/', '/leading', 'tilde~*\'()!', 'amp&eq=semi;'];
    for (const key of keys) {
      await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: `body of ${key}` }));
      const enc = encodeURIComponent(key).replace(/%2F/g, '/');
      for (const source of [`${Bucket}/${enc}`, `/${Bucket}/${enc}`, `${Bucket}/${encodeURIComponent(key)}`]) {
        const r = await copy({ CopySource: source });
        assert.equal(r.CopyPartResult!.ETag, md5(`body of ${key}`), source);
      }
    }
  });

  it('UploadPartCopy takes UTF-8 bytes sent unencoded in the header', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'naïve 😀', Body: 'utf8' }));
    const r = await rawCopy({ 'x-amz-copy-source': Buffer.from(`${Bucket}/naïve 😀`, 'utf8').toString('latin1') });
    assert.equal(r.status, 200, r.body);
    assert.equal(xmlField(r.body, 'ETag'), md5('utf8').replace(/"/g, '&quot;'));
  });

  it('UploadPartCopy with a malformed source -> 400 InvalidArgument', async () => {
    for (const source of ['no-slash', `${Bucket}/`, '/', `%ZZ/${Bucket}`, `${Bucket}/%E0%A4%A`]) {
      const r = await rawCopy({ 'x-amz-copy-source': source });
      assert.equal(r.status, 400, source);
      assert.equal(errorCode(r.body), 'InvalidArgument', source);
      assert.equal(xmlField(r.body, 'Message'), 'Invalid copy source object key');
      assert.equal(xmlField(r.body, 'ArgumentName'), 'x-amz-copy-source');
    }
  });

  it('UploadPartCopy naming an access point or Outposts ARN gets a clear error, not a crash', async () => {
    const ap = await s3Error(() => copy({ CopySource: encodeURIComponent('arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point/object/reports/january.pdf') }));
    assert.equal(ap.status, 404);
    assert.equal(ap.name, 'NoSuchAccessPoint');
    const op = await s3Error(() => copy({ CopySource: encodeURIComponent('arn:aws:s3-outposts:us-west-2:123456789012:outpost/my-outpost/object/reports/january.pdf') }));
    assert.equal(op.status, 400);
    assert.equal(op.name, 'InvalidArgument');
    assert.match(op.message, /Outposts/);
  });

  it('UploadPartCopy with an empty x-amz-copy-source-range -> InvalidArgument', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: '0123456789' }));
    const r = await rawCopy({ 'x-amz-copy-source': `${Bucket}/src`, 'x-amz-copy-source-range': '' });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r.body), 'InvalidArgument');
    assert.equal(xmlField(r.body, 'ArgumentName'), 'x-amz-copy-source-range');
  });

  it('UploadPartCopy ignores copy-source dates that do not parse, as AWS', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: '0123456789' }));
    const r = await rawCopy({
      'x-amz-copy-source': `${Bucket}/src`, 'x-amz-copy-source-if-modified-since': 'not a date', 'x-amz-copy-source-if-unmodified-since': 'Mon, 99 Foo 1900',
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(xmlField(r.body, 'ETag'), md5('0123456789').replace(/"/g, '&quot;'));
  });

  describe('UploadPartCopy SSE-C headers', () => {
    before(() => s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: '0123456789' })));
    const triad = (prefix: string, alg?: string, key?: string, keyMd5?: string) => {
      const h: Record<string, string> = { 'x-amz-copy-source': `${Bucket}/src` };
      if (alg !== undefined) h[`${prefix}-algorithm`] = alg;
      if (key !== undefined) h[`${prefix}-key`] = key;
      if (keyMd5 !== undefined) h[`${prefix}-key-MD5`] = keyMd5;
      return h;
    };
    for (const [side, prefix] of [['source', 'x-amz-copy-source-server-side-encryption-customer'], ['destination', 'x-amz-server-side-encryption-customer']]) {
      it(`UploadPartCopy validates the ${side} SSE-C triad with AWS's errors (recorded)`, async () => {
        const cases: Array<[Record<string, string>, string, string, string | undefined]> = [
          [triad(prefix, 'KMS', KEY_B64, KEY_MD5), 'InvalidEncryptionAlgorithmError', 'The Encryption request you specified is not valid. Supported value: AES256.', 'KMS'],
          [triad(prefix, undefined, KEY_B64, KEY_MD5), 'InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', undefined],
          [triad(prefix, 'AES256', undefined, KEY_MD5), 'InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', undefined],
          [triad(prefix, 'AES256', KEY_B64), 'InvalidArgument', 'The secret key was invalid for the specified algorithm.', undefined],
          [triad(prefix, 'AES256', Buffer.alloc(16).toString('base64'), KEY_MD5), 'InvalidArgument', 'The secret key was invalid for the specified algorithm.', undefined],
          [triad(prefix, 'AES256', KEY_B64, KEY_B64.slice(0, 24)), 'InvalidArgument', 'The calculated MD5 hash of the key did not match the hash that was provided.', undefined],
        ];
        for (const [headers, code, message, value] of cases) {
          const r = await rawCopy(headers);
          assert.equal(r.status, 400, r.body);
          assert.equal(errorCode(r.body), code);
          assert.equal(xmlField(r.body, 'Message'), message);
          assert.equal(xmlField(r.body, 'ArgumentName'), 'x-amz-server-side-encryption');
          assert.equal(xmlField(r.body, 'ArgumentValue'), value);
        }
      });
    }

    it('UploadPartCopy with a valid source key for a source stored without one -> InvalidRequest', async () => {
      const e = await s3Error(() => copy({ CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: KEY as unknown as string }));
      assert.equal(e.status, 400);
      assert.equal(e.name, 'InvalidRequest');
      assert.equal(e.message, 'The encryption parameters are not applicable to this object.');
    });

    it('UploadPartCopy with a destination key for an upload initiated without one -> InvalidRequest (recorded for UploadPart)', async () => {
      const e = await s3Error(() => copy({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY as unknown as string }));
      assert.equal(e.status, 400);
      assert.equal(e.name, 'InvalidRequest');
      assert.equal(e.message, 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.');
    });

    it('CopyObject with SSE-C and x-amz-server-side-encryption together -> InvalidArgument (recorded)', async () => {
      const e = await s3Error(() => s3.send(new CopyObjectCommand({
        Bucket, Key: 'enc-dst', CopySource: `${Bucket}/src`, SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY as unknown as string, ServerSideEncryption: 'AES256',
      })));
      assert.equal(e.name, 'InvalidArgument');
      assert.equal(e.message, 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified');
      assert.equal(e.raw.ArgumentValue, 'AES256');
    });
  });
});
