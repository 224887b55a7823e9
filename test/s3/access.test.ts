import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand,
  DeletePublicAccessBlockCommand, DeleteBucketOwnershipControlsCommand, GetObjectAclCommand, GetObjectCommand, GetObjectTaggingCommand,
  HeadBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, ListObjectVersionsCommand, ListPartsCommand,
  PutBucketAclCommand, PutBucketPolicyCommand, PutObjectAclCommand, PutObjectCommand, S3Client, UploadPartCommand, UploadPartCopyCommand,
  CreateBucketCommand, ListBucketsCommand,
} from '@aws-sdk/client-s3';
import { bucketName, client, liveServer, s3Error } from '../helpers.js';

/**
 * Who may do what: a table of (principal, bucket policy or ACL, operation)
 * -> allowed or AccessDenied, over a live server with three accounts (the
 * root account A owns the buckets; B and C are other accounts) and
 * anonymous requests.
 */
const B = { accountId: '111111111111', canonicalId: 'b'.repeat(64), key: 'AKIDACCOUNTB0000', secret: 'secret-of-account-b' };
const C = { accountId: '222222222222', canonicalId: 'c'.repeat(64), key: 'AKIDACCOUNTC0000', secret: 'secret-of-account-c' };
type Who = 'A' | 'B' | 'C' | 'anon';

let close: () => Promise<void>;
let dir: string;
const clients = {} as Record<Who, S3Client>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-access-'));
  const file = join(dir, 'accounts.json');
  writeFileSync(file, JSON.stringify([B, C].map((x) => ({
    accountId: x.accountId, canonicalId: x.canonicalId, displayName: `account-${x.accountId}`, keys: [{ accessKeyId: x.key, secretAccessKey: x.secret }],
  }))));
  const live = await liveServer({ accountsFile: file });
  close = live.close;
  clients.A = live.s3;
  clients.B = client(live.server, { credentials: { accessKeyId: B.key, secretAccessKey: B.secret } });
  clients.C = client(live.server, { credentials: { accessKeyId: C.key, secretAccessKey: C.secret } });
  clients.anon = client(live.server, { credentials: { accessKeyId: '', secretAccessKey: '' }, signer: { sign: async (r: unknown) => r } });
});

after(async () => {
  for (const w of ['B', 'C', 'anon'] as Who[]) clients[w]?.destroy();
  await close?.();
  rmSync(dir, { recursive: true, force: true });
});

const arn = (bucket: string, rest = '') => `arn:aws:s3:::${bucket}${rest}`;
const policy = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const allowB = (Action: string | string[], Resource: string | string[], extra: object = {}) => ({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B.accountId}:root` }, Action, Resource, ...extra });

/** A bucket of A's with an object `k` (and an upload of `mp` that A initiated), set up by `setup`. */
interface World {
  bucket: string;
  uploadId: string;
  /** A second bucket of A's with object `k`, for copy sources. */
  other: string;
  /** A bucket of B's with object `k` and an upload of `mp` (copy destinations and sources of B's own). */
  bs: string;
  bUpload: string;
}

async function world(setup: (w: World) => Promise<unknown>): Promise<World> {
  const A = clients.A;
  const w = { bucket: bucketName('acc'), other: bucketName('acc-src'), bs: bucketName('acc-b') } as World;
  for (const b of [w.bucket, w.other]) {
    await A.send(new CreateBucketCommand({ Bucket: b }));
    await A.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'hello' }));
  }
  w.uploadId = (await A.send(new CreateMultipartUploadCommand({ Bucket: w.bucket, Key: 'mp' }))).UploadId!;
  await clients.B.send(new CreateBucketCommand({ Bucket: w.bs }));
  await clients.B.send(new PutObjectCommand({ Bucket: w.bs, Key: 'k', Body: 'b-data' }));
  w.bUpload = (await clients.B.send(new CreateMultipartUploadCommand({ Bucket: w.bs, Key: 'mp' }))).UploadId!;
  await setup(w);
  return w;
}

async function openAcls(bucket: string): Promise<void> {
  await clients.A.send(new DeleteBucketOwnershipControlsCommand({ Bucket: bucket }));
  await clients.A.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
}

type Op = (s3: S3Client, w: World) => Promise<unknown>;

/** Every operation of the table, by AWS name. */
const OPS: Record<string, Op> = {
  ListObjectsV2: (s3, w) => s3.send(new ListObjectsV2Command({ Bucket: w.bucket })),
  ListObjectVersions: (s3, w) => s3.send(new ListObjectVersionsCommand({ Bucket: w.bucket })),
  HeadBucket: (s3, w) => s3.send(new HeadBucketCommand({ Bucket: w.bucket })),
  GetObject: async (s3, w) => (await s3.send(new GetObjectCommand({ Bucket: w.bucket, Key: 'k' }))).Body!.transformToString(),
  HeadObject: (s3, w) => s3.send(new HeadObjectCommand({ Bucket: w.bucket, Key: 'k' })),
  GetObjectTagging: (s3, w) => s3.send(new GetObjectTaggingCommand({ Bucket: w.bucket, Key: 'k' })),
  GetObjectAcl: (s3, w) => s3.send(new GetObjectAclCommand({ Bucket: w.bucket, Key: 'k' })),
  PutObject: (s3, w) => s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: 'new', Body: 'x' })),
  DeleteObject: (s3, w) => s3.send(new DeleteObjectCommand({ Bucket: w.bucket, Key: 'k' })),
  CreateMultipartUpload: (s3, w) => s3.send(new CreateMultipartUploadCommand({ Bucket: w.bucket, Key: 'mp2' })),
  UploadPart: (s3, w) => s3.send(new UploadPartCommand({ Bucket: w.bucket, Key: 'mp', UploadId: w.uploadId, PartNumber: 1, Body: 'part' })),
  ListParts: (s3, w) => s3.send(new ListPartsCommand({ Bucket: w.bucket, Key: 'mp', UploadId: w.uploadId })),
  ListMultipartUploads: (s3, w) => s3.send(new ListMultipartUploadsCommand({ Bucket: w.bucket })),
  AbortMultipartUpload: (s3, w) => s3.send(new AbortMultipartUploadCommand({ Bucket: w.bucket, Key: 'mp', UploadId: w.uploadId })),
  CompleteMultipartUpload: async (s3, w) => {
    const p = await clients.A.send(new UploadPartCommand({ Bucket: w.bucket, Key: 'mp', UploadId: w.uploadId, PartNumber: 1, Body: 'only part' }));
    return s3.send(new CompleteMultipartUploadCommand({ Bucket: w.bucket, Key: 'mp', UploadId: w.uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } }));
  },
  /** B's own multipart upload, then abort and list it: the initiator's rights. */
  'AbortMultipartUpload (own upload)': async (s3, w) => {
    const id = (await s3.send(new CreateMultipartUploadCommand({ Bucket: w.bucket, Key: 'mine' }))).UploadId!;
    await s3.send(new ListPartsCommand({ Bucket: w.bucket, Key: 'mine', UploadId: id }));
    return s3.send(new AbortMultipartUploadCommand({ Bucket: w.bucket, Key: 'mine', UploadId: id }));
  },
  /** Source side: copy from A's bucket into the caller's own upload (B's bucket). */
  'UploadPartCopy (source)': (s3, w) => s3.send(new UploadPartCopyCommand({ Bucket: w.bs, Key: 'mp', UploadId: w.bUpload, PartNumber: 1, CopySource: `${w.bucket}/k` })),
  /** Destination side: copy B's own object into A's upload. */
  'UploadPartCopy (destination)': (s3, w) => s3.send(new UploadPartCopyCommand({ Bucket: w.bucket, Key: 'mp', UploadId: w.uploadId, PartNumber: 2, CopySource: `${w.bs}/k` })),
  PutObjectAcl: (s3, w) => s3.send(new PutObjectAclCommand({ Bucket: w.bucket, Key: 'k', ACL: 'private' })),
  DeleteObjects: async (s3, w) => {
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: w.bucket, Delete: { Objects: [{ Key: 'k' }] } }));
    if (r.Errors?.length) throw Object.assign(new Error(r.Errors[0].Message), { name: r.Errors[0].Code, $metadata: { httpStatusCode: 403 } });
    return r;
  },
};

type Row = [who: Who, op: string, allowed: boolean];
interface Scenario {
  name: string;
  setup: (w: World) => Promise<unknown>;
  rows: Row[];
}

const putPolicy = (w: World, text: string) => clients.A.send(new PutBucketPolicyCommand({ Bucket: w.bucket, Policy: text }));

const SCENARIOS: Scenario[] = [
  {
    name: 'no policy, no ACL',
    setup: async () => undefined,
    rows: [
      ...Object.keys(OPS).filter((op) => !/own upload|UploadPartCopy|PutObjectAcl/.test(op)).map((op): Row => ['A', op, true]),
      ...['ListObjectsV2', 'HeadBucket', 'GetObject', 'HeadObject', 'PutObject', 'DeleteObject', 'CreateMultipartUpload', 'UploadPart', 'ListParts',
        'ListMultipartUploads', 'AbortMultipartUpload', 'CompleteMultipartUpload', 'UploadPartCopy (source)', 'UploadPartCopy (destination)',
        'GetObjectAcl', 'GetObjectTagging', 'ListObjectVersions', 'DeleteObjects'].flatMap((op): Row[] => [['B', op, false], ['anon', op, false]]),
    ],
  },
  {
    name: 'policy: B may s3:GetObject on bucket/*',
    setup: (w) => putPolicy(w, policy(allowB('s3:GetObject', arn(w.bucket, '/*')))),
    rows: [['B', 'GetObject', true], ['B', 'HeadObject', true], ['B', 'UploadPartCopy (source)', true], ['B', 'PutObject', false],
      ['B', 'ListObjectsV2', false], ['B', 'GetObjectTagging', false], ['C', 'GetObject', false], ['anon', 'GetObject', false], ['A', 'GetObject', true]],
  },
  {
    name: 'policy: B may s3:PutObject on bucket/*',
    setup: (w) => putPolicy(w, policy(allowB('s3:PutObject', arn(w.bucket, '/*')))),
    rows: [['B', 'PutObject', true], ['B', 'CreateMultipartUpload', true], ['B', 'UploadPart', true], ['B', 'CompleteMultipartUpload', true],
      ['B', 'UploadPartCopy (destination)', true], ['B', 'AbortMultipartUpload (own upload)', true], ['B', 'AbortMultipartUpload', false],
      ['B', 'ListParts', false], ['B', 'ListMultipartUploads', false], ['B', 'GetObject', false], ['B', 'UploadPartCopy (source)', false],
      ['B', 'DeleteObject', false], ['C', 'UploadPart', false], ['anon', 'PutObject', false]],
  },
  {
    name: 'policy: B may list the bucket, its uploads and an upload\'s parts, and abort',
    setup: (w) => putPolicy(w, policy(
      allowB(['s3:ListBucket', 's3:ListBucketMultipartUploads'], arn(w.bucket)),
      allowB(['s3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], arn(w.bucket, '/mp')),
    )),
    rows: [['B', 'ListObjectsV2', true], ['B', 'HeadBucket', true], ['B', 'ListMultipartUploads', true], ['B', 'ListParts', true],
      ['B', 'AbortMultipartUpload', true], ['B', 'ListObjectVersions', false], ['B', 'GetObject', false], ['B', 'UploadPart', false], ['C', 'ListParts', false]],
  },
  {
    name: 'policy: B may s3:* but an explicit Deny of s3:DeleteObject and s3:GetObject wins, for the owner too',
    setup: (w) => putPolicy(w, policy(
      allowB('s3:*', [arn(w.bucket), arn(w.bucket, '/*')]),
      { Effect: 'Deny', Principal: '*', Action: ['s3:DeleteObject', 's3:GetObject'], Resource: arn(w.bucket, '/*') },
    )),
    rows: [['B', 'PutObject', true], ['B', 'ListObjectsV2', true], ['B', 'GetObjectTagging', true], ['B', 'DeleteObject', false], ['B', 'DeleteObjects', false],
      ['B', 'GetObject', false], ['A', 'GetObject', false], ['A', 'DeleteObject', false], ['A', 'PutObject', true], ['B', 'UploadPartCopy (source)', false]],
  },
  {
    name: 'policy: conditions on aws:SourceIp and aws:SecureTransport',
    setup: (w) => putPolicy(w, policy(
      allowB('s3:GetObject', arn(w.bucket, '/*'), { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }),
      allowB('s3:ListBucket', arn(w.bucket), { Condition: { IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] } } }),
      { Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: arn(w.bucket, '/*'), Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    )),
    rows: [['B', 'GetObject', false], ['B', 'ListObjectsV2', true], ['A', 'PutObject', false], ['A', 'GetObject', true]],
  },
  {
    name: 'public policy (Block Public Access removed): anyone may s3:GetObject',
    setup: async (w) => {
      await openAcls(w.bucket);
      await putPolicy(w, policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: arn(w.bucket, '/*') }));
    },
    rows: [['anon', 'GetObject', true], ['anon', 'HeadObject', true], ['C', 'GetObject', true], ['anon', 'PutObject', false], ['anon', 'ListObjectsV2', false]],
  },
  {
    name: 'ACL: bucket public-read-write, ACLs enabled',
    setup: async (w) => {
      await openAcls(w.bucket);
      await clients.A.send(new PutBucketAclCommand({ Bucket: w.bucket, ACL: 'public-read-write' }));
    },
    rows: [['anon', 'ListObjectsV2', true], ['anon', 'PutObject', true], ['anon', 'GetObject', false], ['B', 'CreateMultipartUpload', true],
      ['B', 'UploadPart', true], ['B', 'ListMultipartUploads', true], ['B', 'GetObjectAcl', false], ['B', 'ListParts', false]],
  },
  {
    name: 'ACL: object public-read and authenticated-read',
    setup: async (w) => {
      await openAcls(w.bucket);
      await clients.A.send(new PutObjectAclCommand({ Bucket: w.bucket, Key: 'k', ACL: 'authenticated-read' }));
    },
    rows: [['B', 'GetObject', true], ['C', 'HeadObject', true], ['anon', 'GetObject', false], ['B', 'UploadPartCopy (source)', true], ['B', 'GetObjectAcl', false], ['B', 'PutObject', false]],
  },
  {
    name: 'ACL: a grant to B by canonical id (FULL_CONTROL on the object, WRITE on the bucket)',
    setup: async (w) => {
      await openAcls(w.bucket);
      await clients.A.send(new PutObjectAclCommand({ Bucket: w.bucket, Key: 'k', GrantFullControl: `id="${B.canonicalId}"` }));
      await clients.A.send(new PutBucketAclCommand({ Bucket: w.bucket, GrantWrite: `id="${B.canonicalId}"`, GrantFullControl: `id="${'79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be'}"` }));
    },
    rows: [['B', 'GetObject', true], ['B', 'GetObjectAcl', true], ['B', 'PutObjectAcl', true], ['B', 'PutObject', true], ['B', 'DeleteObject', true],
      ['C', 'GetObject', false], ['B', 'ListObjectsV2', false], ['A', 'GetObject', true]],
  },
  {
    name: 'default ownership (BucketOwnerEnforced) ignores ACLs: public-read is not even accepted',
    setup: async (w) => {
      const e = await s3Error(() => clients.A.send(new PutBucketAclCommand({ Bucket: w.bucket, ACL: 'public-read' })));
      assert.equal(e.name, 'AccessControlListNotSupported');
    },
    rows: [['anon', 'ListObjectsV2', false], ['B', 'GetObject', false]],
  },
];

async function expectOutcome(who: Who, op: string, w: World, allowed: boolean): Promise<void> {
  const run = () => OPS[op](clients[who], w);
  if (allowed) {
    await run();
    return;
  }
  const e = await s3Error(run);
  assert.equal(e.status, 403, `${who} ${op}: expected 403, got ${e.status} ${e.name}`);
  if (!/^Head/.test(op)) assert.equal(e.name, 'AccessDenied', `${who} ${op}`);
}

describe('Access control', () => {
  for (const sc of SCENARIOS) {
    describe(sc.name, () => {
      for (const [who, op, allowed] of sc.rows) {
        it(`${op} by ${who} -> ${allowed ? 'allowed' : 'AccessDenied'}`, async () => {
          // A world per row: an operation that changes state cannot influence the next one.
          const w = await world(sc.setup);
          await expectOutcome(who, op, w, allowed);
        });
      }
    });
  }

  it('ListBuckets shows only the caller\'s buckets; anonymous ListBuckets is AccessDenied', async () => {
    const name = bucketName('acc-own');
    await clients.C.send(new CreateBucketCommand({ Bucket: name }));
    const mine = (await clients.C.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name);
    assert.deepEqual(mine, [name]);
    const a = (await clients.A.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name);
    assert.ok(!a.includes(name));
    const e = await s3Error(() => clients.anon.send(new ListBucketsCommand({})));
    assert.equal(e.name, 'AccessDenied');
    assert.equal((await s3Error(() => clients.anon.send(new CreateBucketCommand({ Bucket: bucketName('anon') })))).name, 'AccessDenied');
  });

  it('x-amz-expected-bucket-owner: another account -> 403, not an account id -> InvalidBucketOwnerAWSAccountID (recorded)', async () => {
    const w = await world(async () => undefined);
    const e = await s3Error(() => clients.A.send(new GetObjectCommand({ Bucket: w.bucket, Key: 'k', ExpectedBucketOwner: B.accountId })));
    assert.equal(e.status, 403);
    assert.equal(e.name, 'AccessDenied');
    const bad = await s3Error(() => clients.A.send(new ListObjectsV2Command({ Bucket: w.bucket, ExpectedBucketOwner: 'abcd' })));
    assert.equal(bad.status, 400);
    assert.equal(bad.name, 'InvalidBucketOwnerAWSAccountID');
    assert.equal(bad.message, 'The value of the expected bucket owner parameter must be an AWS Account ID... [abcd]');
    await clients.A.send(new GetObjectCommand({ Bucket: w.bucket, Key: 'k', ExpectedBucketOwner: '123456789012' }));
  });

  it('UploadPartCopy x-amz-source-expected-bucket-owner names the source bucket\'s owner', async () => {
    const w = await world((x) => putPolicy(x, policy(allowB('s3:GetObject', arn(x.bucket, '/*')))));
    const copy = (owner: string) => clients.B.send(new UploadPartCopyCommand({
      Bucket: w.bs, Key: 'mp', UploadId: w.bUpload, PartNumber: 1, CopySource: `${w.bucket}/k`, ExpectedSourceBucketOwner: owner, ExpectedBucketOwner: B.accountId,
    }));
    assert.equal((await s3Error(() => copy(B.accountId))).name, 'AccessDenied');
    const ok = await copy('123456789012');
    assert.equal(ok.CopyPartResult!.ETag, '"5d41402abc4b2a76b9719d911017c592"');
  });

  it('GetObject of a missing key: 404 to who may list, 403 to who may only read', async () => {
    const w = await world((x) => putPolicy(x, policy(allowB('s3:GetObject', arn(x.bucket, '/*')), allowB('s3:ListBucket', arn(x.bucket), { Condition: { StringEquals: { 'aws:PrincipalAccount': C.accountId } } }))));
    const e = await s3Error(() => clients.B.send(new GetObjectCommand({ Bucket: w.bucket, Key: 'missing' })));
    assert.equal(e.name, 'AccessDenied');
    await putPolicy(w, policy(allowB('s3:GetObject', arn(w.bucket, '/*')), allowB('s3:ListBucket', arn(w.bucket))));
    assert.equal((await s3Error(() => clients.B.send(new GetObjectCommand({ Bucket: w.bucket, Key: 'missing' })))).name, 'NoSuchKey');
  });
});
