import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand,
  DeleteObjectCommand, DeleteObjectsCommand, DeletePublicAccessBlockCommand, GetBucketRequestPaymentCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand,
  ListObjectsV2Command, ListPartsCommand, PutBucketPolicyCommand, PutBucketRequestPaymentCommand, PutObjectCommand, S3Client,
  UploadPartCommand, UploadPartCopyCommand, type RequestPayer,
} from '@aws-sdk/client-s3';
import { bucketName, client, liveServer, s3Error } from '../helpers.js';
import { errorCode, raw, xmlField } from './raw-signed.js';

/**
 * Requester Pays: PutBucketRequestPayment / GetBucketRequestPayment
 * (recorded in test_s3_request_payer and test_s3_request_payer_exceptions),
 * `x-amz-request-charged: requester` on the answers that carry
 * RequestCharged when the request says `x-amz-request-payer: requester` and
 * a bucket involved is requester-pays, and the refusal of other accounts'
 * requests that do not agree to pay.
 */
const B = { accountId: '111111111111', canonicalId: 'b'.repeat(64), key: 'AKIDPAYERB0000000', secret: 'secret-of-payer-b' };
const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MALFORMED = 'The XML you provided was not well-formed or did not validate against our published schema';

let env: Awaited<ReturnType<typeof liveServer>>;
let s3: S3Client;
let other: S3Client;
let anon: S3Client;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-payer-'));
  const file = join(dir, 'accounts.json');
  writeFileSync(file, JSON.stringify([{ accountId: B.accountId, canonicalId: B.canonicalId, displayName: 'payer-b', keys: [{ accessKeyId: B.key, secretAccessKey: B.secret }] }]));
  env = await liveServer({ accountsFile: file, minPartSize: 1 });
  s3 = env.s3;
  other = client(env.server, { credentials: { accessKeyId: B.key, secretAccessKey: B.secret } });
  anon = client(env.server, { credentials: { accessKeyId: '', secretAccessKey: '' }, signer: { sign: async (r: unknown) => r } });
});

after(async () => {
  other?.destroy();
  anon?.destroy();
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function bucket(payer?: 'Requester' | 'BucketOwner'): Promise<string> {
  const name = bucketName('payer');
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (payer) await s3.send(new PutBucketRequestPaymentCommand({ Bucket: name, RequestPaymentConfiguration: { Payer: payer } }));
  await s3.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'hello' }));
  return name;
}

const payer = (RequestPayer: RequestPayer | undefined) => (RequestPayer ? { RequestPayer } : {});

/** Every charged operation in turn on `Bucket`, each answer's RequestCharged by operation. */
async function chargedByOperation(Bucket: string, RequestPayer?: RequestPayer): Promise<Record<string, string | undefined>> {
  const p = payer(RequestPayer);
  const out: Record<string, string | undefined> = {};
  out.PutObject = (await s3.send(new PutObjectCommand({ Bucket, Key: 'o', Body: 'object body', ...p }))).RequestCharged;
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'o', ...p }));
  assert.equal(await got.Body!.transformToString(), 'object body');
  out.GetObject = got.RequestCharged;
  out.HeadObject = (await s3.send(new HeadObjectCommand({ Bucket, Key: 'o', ...p }))).RequestCharged;
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp', ...p }));
  out.CreateMultipartUpload = created.RequestCharged;
  const UploadId = created.UploadId!;
  const part = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 1, Body: 'first part', ...p }));
  out.UploadPart = part.RequestCharged;
  const copied = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 2, CopySource: `${Bucket}/o`, ...p }));
  out.UploadPartCopy = copied.RequestCharged;
  out.ListParts = (await s3.send(new ListPartsCommand({ Bucket, Key: 'mp', UploadId, ...p }))).RequestCharged;
  const Parts = [{ PartNumber: 1, ETag: part.ETag }, { PartNumber: 2, ETag: copied.CopyPartResult!.ETag }];
  out.CompleteMultipartUpload = (await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'mp', UploadId, MultipartUpload: { Parts }, ...p }))).RequestCharged;
  out.CopyObject = (await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy', CopySource: `${Bucket}/mp`, ...p }))).RequestCharged;
  out.ListObjectsV2 = (await s3.send(new ListObjectsV2Command({ Bucket, ...p }))).RequestCharged;
  const abort = (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'gone' }))).UploadId!;
  out.AbortMultipartUpload = (await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'gone', UploadId: abort, ...p }))).RequestCharged;
  out.DeleteObject = (await s3.send(new DeleteObjectCommand({ Bucket, Key: 'copy', ...p }))).RequestCharged;
  out.DeleteObjects = (await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'o' }, { Key: 'mp' }] }, ...p }))).RequestCharged;
  return out;
}

const OPERATIONS = ['PutObject', 'GetObject', 'HeadObject', 'CreateMultipartUpload', 'UploadPart', 'UploadPartCopy', 'ListParts',
  'CompleteMultipartUpload', 'CopyObject', 'ListObjectsV2', 'AbortMultipartUpload', 'DeleteObject', 'DeleteObjects'];
const every = (value: string | undefined) => Object.fromEntries(OPERATIONS.map((op) => [op, value]));

describe('PutBucketRequestPayment and GetBucketRequestPayment', () => {
  it('GetBucketRequestPayment answers BucketOwner for a new bucket', async () => {
    const r = await s3.send(new GetBucketRequestPaymentCommand({ Bucket: await bucket() }));
    assert.equal(r.Payer, 'BucketOwner');
  });

  it('PutBucketRequestPayment Requester, then BucketOwner, each read back', async () => {
    const Bucket = await bucket();
    const put = await s3.send(new PutBucketRequestPaymentCommand({ Bucket, RequestPaymentConfiguration: { Payer: 'Requester' } }));
    assert.equal(put.$metadata.httpStatusCode, 200);
    assert.equal((await s3.send(new GetBucketRequestPaymentCommand({ Bucket }))).Payer, 'Requester');
    await s3.send(new PutBucketRequestPaymentCommand({ Bucket, RequestPaymentConfiguration: { Payer: 'BucketOwner' } }));
    assert.equal((await s3.send(new GetBucketRequestPaymentCommand({ Bucket }))).Payer, 'BucketOwner');
  });

  it('PutBucketRequestPayment with an unknown Payer is MalformedXML (recorded)', async () => {
    const Bucket = await bucket();
    const e = await s3Error(() => s3.send(new PutBucketRequestPaymentCommand({ Bucket, RequestPaymentConfiguration: { Payer: 'Random' as 'Requester' } })));
    assert.deepEqual([e.status, e.name, e.message], [400, 'MalformedXML', MALFORMED]);
    assert.equal((await s3.send(new GetBucketRequestPaymentCommand({ Bucket }))).Payer, 'BucketOwner');
  });

  it('PutBucketRequestPayment without a Payer, under another root or not XML is MalformedXML, and GetBucketRequestPayment answers the document', async () => {
    const Bucket = await bucket();
    const path = `/${Bucket}`;
    const query = { requestPayment: '' };
    for (const body of [
      `<RequestPaymentConfiguration xmlns="${NS}"></RequestPaymentConfiguration>`,
      `<RequestPaymentConfiguration xmlns="${NS}"><Payer>requester</Payer></RequestPaymentConfiguration>`,
      `<PaymentConfiguration xmlns="${NS}"><Payer>Requester</Payer></PaymentConfiguration>`,
      'Payer=Requester',
    ]) {
      const r = await raw(env.server, { method: 'PUT', path, query, body });
      assert.deepEqual([r.status, errorCode(r.body), xmlField(r.body, 'Message')], [400, 'MalformedXML', MALFORMED], body);
    }
    const ok = await raw(env.server, { method: 'PUT', path, query, body: `<RequestPaymentConfiguration xmlns="${NS}"><Payer>Requester</Payer></RequestPaymentConfiguration>` });
    assert.equal(ok.status, 200);
    const got = await raw(env.server, { method: 'GET', path, query });
    assert.match(got.body, new RegExp(`<RequestPaymentConfiguration xmlns="${NS}"><Payer>Requester</Payer></RequestPaymentConfiguration>$`));
  });

  it('GetBucketRequestPayment of a missing bucket is NoSuchBucket (recorded)', async () => {
    const Bucket = bucketName('missing');
    const e = await s3Error(() => s3.send(new GetBucketRequestPaymentCommand({ Bucket })));
    assert.deepEqual([e.status, e.name, e.raw.BucketName], [404, 'NoSuchBucket', Bucket]);
    const put = await s3Error(() => s3.send(new PutBucketRequestPaymentCommand({ Bucket, RequestPaymentConfiguration: { Payer: 'Requester' } })));
    assert.deepEqual([put.status, put.name], [404, 'NoSuchBucket']);
  });

  it('PutBucketRequestPayment by another account is AccessDenied', async () => {
    const Bucket = await bucket();
    const e = await s3Error(() => other.send(new PutBucketRequestPaymentCommand({ Bucket, RequestPaymentConfiguration: { Payer: 'Requester' } })));
    assert.deepEqual([e.status, e.name], [403, 'AccessDenied']);
    assert.equal((await s3.send(new GetBucketRequestPaymentCommand({ Bucket }))).Payer, 'BucketOwner');
  });
});

describe('x-amz-request-charged', () => {
  it('every charged operation answers RequestCharged requester on a requester-pays bucket when the request agrees to pay', async () => {
    assert.deepEqual(await chargedByOperation(await bucket('Requester'), 'requester'), every('requester'));
  });

  it('no operation answers RequestCharged on a requester-pays bucket when the request names no payer (the owner need not)', async () => {
    assert.deepEqual(await chargedByOperation(await bucket('Requester')), every(undefined));
  });

  it('no operation answers RequestCharged on a bucket whose owner pays, even when the request agrees to pay', async () => {
    assert.deepEqual(await chargedByOperation(await bucket('BucketOwner'), 'requester'), every(undefined));
  });

  it('a bucket switched back to BucketOwner no longer charges', async () => {
    const Bucket = await bucket('Requester');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k', RequestPayer: 'requester' }))).RequestCharged, 'requester');
    await s3.send(new PutBucketRequestPaymentCommand({ Bucket, RequestPaymentConfiguration: { Payer: 'BucketOwner' } }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k', RequestPayer: 'requester' }))).RequestCharged, undefined);
  });

  it('CopyObject and UploadPartCopy from a requester-pays source into a bucket whose owner pays are charged', async () => {
    const source = await bucket('Requester');
    const Bucket = await bucket();
    const copy = await s3.send(new CopyObjectCommand({ Bucket, Key: 'c', CopySource: `${source}/k`, RequestPayer: 'requester' }));
    assert.equal(copy.RequestCharged, 'requester');
    const UploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp' }))).UploadId!;
    const part = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 1, CopySource: `${source}/k`, RequestPayer: 'requester' }));
    assert.equal(part.RequestCharged, 'requester');
    const plain = await s3.send(new UploadPartCopyCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 1, CopySource: `${source}/k` }));
    assert.equal(plain.RequestCharged, undefined);
  });

  it('a failed request on a requester-pays bucket carries no RequestCharged', async () => {
    const Bucket = await bucket('Requester');
    const e = await s3Error(() => s3.send(new GetObjectCommand({ Bucket, Key: 'missing', RequestPayer: 'requester' })));
    assert.deepEqual([e.status, e.name], [404, 'NoSuchKey']);
    assert.equal(e.raw.$response?.headers?.['x-amz-request-charged'], undefined);
  });
});

describe('requester-pays buckets and other accounts', () => {
  /** A requester-pays bucket whose policy lets account B and everyone read, write and list. */
  async function shared(): Promise<string> {
    const Bucket = await bucket('Requester');
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket }));
    const Statement = [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:PutObject', 's3:GetObjectTagging'], Resource: `arn:aws:s3:::${Bucket}/*` }];
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement }) }));
    return Bucket;
  }

  it('GetObject by another account without RequestPayer is AccessDenied, with it the bytes and RequestCharged', async () => {
    const Bucket = await shared();
    const e = await s3Error(() => other.send(new GetObjectCommand({ Bucket, Key: 'k' })));
    assert.deepEqual([e.status, e.name], [403, 'AccessDenied']);
    const r = await other.send(new GetObjectCommand({ Bucket, Key: 'k', RequestPayer: 'requester' }));
    assert.equal(await r.Body!.transformToString(), 'hello');
    assert.equal(r.RequestCharged, 'requester');
  });

  it('PutObject and GetObjectTagging by another account need RequestPayer too', async () => {
    const Bucket = await shared();
    const put = await s3Error(() => other.send(new PutObjectCommand({ Bucket, Key: 'b', Body: 'from b' })));
    assert.deepEqual([put.status, put.name], [403, 'AccessDenied']);
    const ok = await other.send(new PutObjectCommand({ Bucket, Key: 'b', Body: 'from b', RequestPayer: 'requester' }));
    assert.equal(ok.RequestCharged, 'requester');
    const tags = await s3Error(() => other.send(new GetObjectTaggingCommand({ Bucket, Key: 'b' })));
    assert.deepEqual([tags.status, tags.name], [403, 'AccessDenied']);
    assert.deepEqual((await other.send(new GetObjectTaggingCommand({ Bucket, Key: 'b', RequestPayer: 'requester' }))).TagSet, []);
  });

  it('CopyObject by another account from a requester-pays source into its own bucket needs RequestPayer', async () => {
    const source = await shared();
    const Bucket = bucketName('payer-b');
    await other.send(new CreateBucketCommand({ Bucket }));
    const e = await s3Error(() => other.send(new CopyObjectCommand({ Bucket, Key: 'c', CopySource: `${source}/k` })));
    assert.deepEqual([e.status, e.name], [403, 'AccessDenied']);
    const ok = await other.send(new CopyObjectCommand({ Bucket, Key: 'c', CopySource: `${source}/k`, RequestPayer: 'requester' }));
    assert.equal(ok.RequestCharged, 'requester');
    assert.equal(await (await other.send(new GetObjectCommand({ Bucket, Key: 'c' }))).Body!.transformToString(), 'hello');
  });

  it('GetObject by an anonymous requester is AccessDenied on a requester-pays bucket even when the policy allows everyone', async () => {
    const Bucket = await shared();
    const e = await s3Error(() => anon.send(new GetObjectCommand({ Bucket, Key: 'k', RequestPayer: 'requester' })));
    assert.deepEqual([e.status, e.name], [403, 'AccessDenied']);
    await s3.send(new PutBucketRequestPaymentCommand({ Bucket, RequestPaymentConfiguration: { Payer: 'BucketOwner' } }));
    assert.equal(await (await anon.send(new GetObjectCommand({ Bucket, Key: 'k' }))).Body!.transformToString(), 'hello');
  });
});

describe('x-amz-request-charged on answers that keep the connection open', () => {
  it('CompleteMultipartUpload and UploadPartCopy answered the long way carry RequestCharged', async () => {
    const slow = await liveServer({ keepAliveAfterMs: 0, minPartSize: 1 });
    try {
      const Bucket = bucketName('payer-slow');
      await slow.s3.send(new CreateBucketCommand({ Bucket }));
      await slow.s3.send(new PutBucketRequestPaymentCommand({ Bucket, RequestPaymentConfiguration: { Payer: 'Requester' } }));
      await slow.s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'source bytes' }));
      const UploadId = (await slow.s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp' }))).UploadId!;
      const part = await slow.s3.send(new UploadPartCopyCommand({ Bucket, Key: 'mp', UploadId, PartNumber: 1, CopySource: `${Bucket}/src`, RequestPayer: 'requester' }));
      assert.equal(part.RequestCharged, 'requester');
      const done = await slow.s3.send(new CompleteMultipartUploadCommand({
        Bucket, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult!.ETag }] }, RequestPayer: 'requester',
      }));
      assert.equal(done.RequestCharged, 'requester');
      assert.equal(await (await slow.s3.send(new GetObjectCommand({ Bucket, Key: 'mp' }))).Body!.transformToString(), 'source bytes');
    } finally {
      await slow.close();
    }
  });
});
