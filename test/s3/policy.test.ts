import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand, DeleteBucketPolicyCommand, DeletePublicAccessBlockCommand, GetBucketPolicyCommand, PutBucketPolicyCommand, S3Client,
} from '@aws-sdk/client-s3';
import { bucketName, client, liveServer, s3Error } from '../helpers.js';

/** PutBucketPolicy / GetBucketPolicy / DeleteBucketPolicy, and what MalformedPolicy says. */
const B = { accountId: '111111111111', key: 'AKIDPOLICYB00000', secret: 'secret-of-account-b' };
let s3: S3Client;
let sb: S3Client;
let close: () => Promise<void>;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-policy-'));
  writeFileSync(join(dir, 'accounts.json'), JSON.stringify({ accounts: [{ accountId: B.accountId, displayName: 'b', keys: [{ accessKeyId: B.key, secretAccessKey: B.secret }] }] }));
  const live = await liveServer({ accountsFile: join(dir, 'accounts.json') });
  s3 = live.s3;
  sb = client(live.server, { credentials: { accessKeyId: B.key, secretAccessKey: B.secret } });
  close = live.close;
});
after(async () => {
  sb.destroy();
  await close();
  rmSync(dir, { recursive: true, force: true });
});

async function bucket(): Promise<string> {
  const name = bucketName('pol');
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}
const put = (Bucket: string, Policy: string, extra: object = {}) => s3.send(new PutBucketPolicyCommand({ Bucket, Policy, ...extra }));
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const stmt = (b: string, extra: object = {}) => ({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B.accountId}:root` }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, ...extra });

async function malformed(b: string, policy: string, message: string): Promise<void> {
  const e = await s3Error(() => put(b, policy));
  assert.equal(e.status, 400, policy);
  assert.equal(e.name, 'MalformedPolicy', policy);
  assert.equal(e.message, message, policy);
}

describe('Bucket policy', () => {
  it('PutBucketPolicy -> 204, GetBucketPolicy returns it, DeleteBucketPolicy -> 204 (twice), then NoSuchBucketPolicy (recorded)', async () => {
    const b = await bucket();
    const none = await s3Error(() => s3.send(new GetBucketPolicyCommand({ Bucket: b })));
    assert.equal(none.status, 404);
    assert.equal(none.name, 'NoSuchBucketPolicy');
    assert.equal(none.message, 'The bucket policy does not exist');
    assert.equal(none.raw.BucketName, b);
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }] });
    assert.equal((await put(b, policy)).$metadata.httpStatusCode, 204);
    assert.deepEqual(JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: b }))).Policy!), JSON.parse(policy));
    assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: b, ExpectedBucketOwner: '123456789012' }))).Policy, policy);
    const wrongOwner = await s3Error(() => s3.send(new GetBucketPolicyCommand({ Bucket: b, ExpectedBucketOwner: '000000000000' })));
    assert.equal(wrongOwner.name, 'AccessDenied');
    assert.equal((await s3Error(() => s3.send(new DeleteBucketPolicyCommand({ Bucket: b, ExpectedBucketOwner: 'invalid' })))).name, 'InvalidBucketOwnerAWSAccountID');
    assert.equal((await s3.send(new DeleteBucketPolicyCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
    assert.equal((await s3.send(new DeleteBucketPolicyCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
    assert.equal((await s3Error(() => s3.send(new GetBucketPolicyCommand({ Bucket: b })))).name, 'NoSuchBucketPolicy');
  });

  it('PutBucketPolicy: not JSON, empty JSON (recorded)', async () => {
    const b = await bucket();
    await malformed(b, 'aaaaaa', "Policies must be valid JSON and the first byte must be '{'");
    await malformed(b, ' [1]', "Policies must be valid JSON and the first byte must be '{'");
    await malformed(b, '{"Statement": [', "Policies must be valid JSON and the first byte must be '{'");
    await malformed(b, '{}', 'Missing required field Statement');
    await malformed(b, '{"Version": "2012-10-17", "Statement": []}', 'Could not parse the policy: Statement is empty!');
  });

  it('PutBucketPolicy: what is wrong with a statement is named', async () => {
    const b = await bucket();
    await malformed(b, doc(stmt(b, { Action: 's3:GetObjekt' })), 'Policy has invalid action');
    await malformed(b, doc(stmt(b, { Action: ['s3:GetObject', 'ec2:RunInstances'] })), 'Policy has invalid action');
    await malformed(b, doc(stmt(b, { Action: 's3:Fly*' })), 'Policy has invalid action');
    await malformed(b, doc(stmt(b, { Resource: 'arn:aws:s3:::another-bucket/*' })), 'Policy has invalid resource');
    await malformed(b, doc(stmt(b, { Resource: `arn:aws:s3:::${b}` })), 'Action does not apply to any resource(s) in statement');
    await malformed(b, doc(stmt(b, { Action: 's3:ListBucket' })), 'Action does not apply to any resource(s) in statement');
    await malformed(b, doc(stmt(b, { Principal: { AWS: 'bob' } })), 'Invalid principal in policy');
    await malformed(b, doc(stmt(b, { Effect: 'Maybe' })), 'Invalid effect: Maybe');
    await malformed(b, doc(stmt(b, { Effect: undefined })), 'Missing required field Effect');
    await malformed(b, doc(stmt(b, { Principal: undefined })), 'Missing required field Principal');
    await malformed(b, doc(stmt(b, { Resource: undefined })), 'Missing required field Resource');
    await malformed(b, doc(stmt(b, { Colour: 'blue' })), 'Unknown field Colour');
    await malformed(b, JSON.stringify({ Version: '2020-01-01', Statement: [stmt(b)] }), 'The policy must contain a valid version string');
    await malformed(b, doc(stmt(b, { Condition: { StringEquals: { 's3:favourite-colour': 'blue' } } })), 'Policy has an invalid condition key');
    await malformed(b, doc(stmt(b, { Condition: { IpAddress: { 'aws:SourceIp': 'not-an-ip' } } })), 'Invalid Condition value for IpAddress aws:SourceIp');
    const op = await s3Error(() => put(b, doc(stmt(b, { Condition: { StringSortOf: { 's3:prefix': 'a' } } }))));
    assert.equal(op.name, 'MalformedPolicy');
    assert.match(op.message, /^Invalid Condition type : StringSortOf/);
  });

  it('PutBucketPolicy: a policy over 20 KB is refused; one just under is accepted', async () => {
    const b = await bucket();
    const sids = (n: number) => doc(...Array.from({ length: n }, (_, i) => stmt(b, { Sid: `S${String(i).padStart(4, '0')}` })));
    const fits = sids(Math.floor(20 * 1024 / Buffer.byteLength(JSON.stringify(stmt(b, { Sid: 'S0000' })) + 1)) - 1);
    assert.ok(Buffer.byteLength(fits) <= 20 * 1024);
    assert.equal((await put(b, fits)).$metadata.httpStatusCode, 204);
    const big = sids(400);
    assert.ok(Buffer.byteLength(big) > 20 * 1024);
    await malformed(b, big, 'Policy exceeds the maximum allowed document size.');
    // Whitespace does not count, as AWS measures a policy without it.
    const padded = fits.replace(/,/g, ',          ');
    assert.ok(Buffer.byteLength(padded) > 20 * 1024);
    assert.equal((await put(b, padded)).$metadata.httpStatusCode, 204);
  });

  it('PutBucketPolicy of a public policy is AccessDenied while BlockPublicPolicy is on (the default)', async () => {
    const b = await bucket();
    const pub = doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` });
    const e = await s3Error(() => put(b, pub));
    assert.equal(e.status, 403);
    assert.equal(e.name, 'AccessDenied');
    assert.match(e.message, /BlockPublicPolicy/);
    // Narrowed to an address range, a `*` principal is not public.
    await put(b, doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } } }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    assert.equal((await put(b, pub)).$metadata.httpStatusCode, 204);
  });

  it('policy operations: never for another account (405 when the policy allows it), always for the owner even when denied', async () => {
    const b = await bucket();
    const e = await s3Error(() => sb.send(new GetBucketPolicyCommand({ Bucket: b })));
    assert.equal(e.name, 'AccessDenied');
    await put(b, doc(
      stmt(b, { Action: ['s3:GetBucketPolicy', 's3:PutBucketPolicy'], Resource: `arn:aws:s3:::${b}` }),
      { Effect: 'Deny', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 's3:*', Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`] },
    ));
    const other = await s3Error(() => sb.send(new GetBucketPolicyCommand({ Bucket: b })));
    assert.equal(other.status, 405);
    assert.equal(other.name, 'MethodNotAllowed');
    assert.ok((await s3.send(new GetBucketPolicyCommand({ Bucket: b }))).Policy);
    assert.equal((await s3.send(new DeleteBucketPolicyCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
  });
});
