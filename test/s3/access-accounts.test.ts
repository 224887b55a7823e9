import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { startServer, type RunningServer } from '../../src/index.js';
import { bucketName, client, s3Error, startTestServer, testMeta, type TestMeta } from '../helpers.js';

/**
 * Accounts: provisioned by the accounts file at start and by `tessera admin`
 * while the server runs; secrets encrypted at rest; a revoked key refused
 * with the next request and after a restart.
 */
const run = promisify(execFile);
const MAIN = join(import.meta.dirname, '../../src/main.ts');

let dir: string;
let dataDir: string;
let accountsFile: string;
/** The store the server and `tessera admin` share: in PostgreSQL mode, a database of this suite's own. */
let meta: TestMeta;
let server: RunningServer | undefined;
const open: S3Client[] = [];

const FILE_ACCOUNT = { accountId: '333333333333', canonicalId: 'd'.repeat(64), displayName: 'from-the-file', email: 'file@example.com', keys: [{ accessKeyId: 'AKIDFROMTHEFILE01', secretAccessKey: 'the-file-secret-0001' }] };

async function admin(...args: string[]): Promise<any> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', MAIN, 'admin', ...args, '--data-dir', dataDir, ...meta.args], { cwd: join(import.meta.dirname, '../..') });
  return JSON.parse(stdout);
}

async function start(): Promise<RunningServer> {
  server = await startServer({ port: 0, jobIntervalMs: 0, dataDir, accountsFile, ...meta.options });
  return server;
}

function as(accessKeyId: string, secretAccessKey: string): S3Client {
  const c = client(server!, { credentials: { accessKeyId, secretAccessKey } });
  open.push(c);
  return c;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-accounts-'));
  dataDir = join(dir, 'data');
  accountsFile = join(dir, 'accounts.json');
  writeFileSync(accountsFile, JSON.stringify([FILE_ACCOUNT]));
  meta = await testMeta();
  await start();
});

after(async () => {
  for (const c of open) c.destroy();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
  await meta?.drop();
});

describe('Accounts', () => {
  it('an account from the accounts file signs requests and owns what it creates', async () => {
    const s3 = as('AKIDFROMTHEFILE01', 'the-file-secret-0001');
    const name = bucketName('file');
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    const r = await s3.send(new ListBucketsCommand({}));
    assert.deepEqual(r.Buckets!.map((b) => b.Name), [name]);
    assert.equal(r.Owner!.ID, FILE_ACCOUNT.canonicalId);
    const wrong = await s3Error(() => as('AKIDFROMTHEFILE01', 'not-the-secret').send(new ListBucketsCommand({})));
    assert.equal(wrong.name, 'SignatureDoesNotMatch');
    await s3.send(new DeleteBucketCommand({ Bucket: name }));
  });

  it('secrets are stored encrypted, under a key file only the server\'s user can read', async () => {
    const snapshot = await server!.deps.meta.loadAccounts();
    const stored = snapshot.keys.find((k) => k.accessKeyId === FILE_ACCOUNT.keys[0].accessKeyId);
    assert.ok(stored?.secret, 'the metadata store holds the file account\'s key');
    assert.match(stored.secret, /^v1\.[\w-]+\.[\w-]+$/, 'sealed');
    assert.equal(JSON.stringify(snapshot).includes('the-file-secret-0001'), false);
    for (const part of stored.secret.split('.')) assert.equal(Buffer.from(part, 'base64url').includes(Buffer.from('the-file-secret-0001')), false);
    assert.equal(statSync(join(dataDir, 'accounts.key')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(dataDir, 'accounts.key'), 'utf8'), /^tessera-accounts-key v1 [A-Za-z0-9+/]{43}=\n$/);
  });

  it('tessera admin: an account and key added while the server runs work at once; a revoked key is refused at once and after a restart', async () => {
    const added = await admin('account', 'add', '--display-name', 'cli-made', '--with-key');
    assert.match(added.accountId, /^\d{12}$/);
    assert.match(added.canonicalId, /^[0-9a-f]{64}$/);
    const s3 = as(added.key.accessKeyId, added.key.secretAccessKey);
    const r = await s3.send(new ListBucketsCommand({}));
    assert.equal(r.Owner!.ID, added.canonicalId);
    const second = await admin('key', 'create', added.accountId);
    await as(second.accessKeyId, second.secretAccessKey).send(new ListBucketsCommand({}));
    assert.deepEqual(await admin('key', 'revoke', added.key.accessKeyId), { revoked: added.key.accessKeyId });
    const refused = await s3Error(() => s3.send(new ListBucketsCommand({})));
    assert.equal(refused.status, 403);
    assert.equal(refused.name, 'InvalidAccessKeyId');
    const listed = (await admin('account', 'list')).find((a: any) => a.accountId === added.accountId);
    assert.deepEqual(listed.keys.map((k: any) => [k.accessKeyId, k.status]).sort(), [[added.key.accessKeyId, 'Revoked'], [second.accessKeyId, 'Active']].sort());
    assert.equal(JSON.stringify(await admin('account', 'list')).includes(second.secretAccessKey), false);

    // The file also names the revoked key of the file account: it stays revoked across a restart.
    await admin('key', 'revoke', 'AKIDFROMTHEFILE01');
    await server!.close();
    await start();
    assert.equal((await s3Error(() => as(added.key.accessKeyId, added.key.secretAccessKey).send(new ListBucketsCommand({})))).name, 'InvalidAccessKeyId');
    assert.equal((await s3Error(() => as('AKIDFROMTHEFILE01', 'the-file-secret-0001').send(new ListBucketsCommand({})))).name, 'InvalidAccessKeyId');
    await as(second.accessKeyId, second.secretAccessKey).send(new ListBucketsCommand({}));
  });

  it('tessera admin account remove: refused while the account owns buckets, then its keys stop working', async () => {
    const added = await admin('account', 'add', '--display-name', 'short-lived', '--with-key');
    const s3 = as(added.key.accessKeyId, added.key.secretAccessKey);
    const name = bucketName('owned');
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    await assert.rejects(admin('account', 'remove', added.accountId), /owns 1 bucket/);
    await s3.send(new DeleteBucketCommand({ Bucket: name }));
    assert.deepEqual(await admin('account', 'remove', added.accountId), { removed: added.accountId });
    assert.equal((await s3Error(() => s3.send(new ListBucketsCommand({})))).name, 'InvalidAccessKeyId');
    await assert.rejects(admin('account', 'add', '--account-id', '12345'), /account id "12345": must be 12 digits/);
  });

  it('an accounts-file entry holding the root access key names the root account', async () => {
    const other = mkdtempSync(join(tmpdir(), 'tessera-root-'));
    const file = join(other, 'accounts.json');
    writeFileSync(file, JSON.stringify([{ accountId: '444455556666', canonicalId: 'e'.repeat(64), displayName: 'renamed-root', keys: [{ accessKeyId: 'tessera-root', secretAccessKey: 'tessera-root-secret-key' }] }]));
    const s = await startTestServer({ port: 0, jobIntervalMs: 0, accountsFile: file });
    const c = client(s);
    try {
      const name = bucketName('root');
      await c.send(new CreateBucketCommand({ Bucket: name }));
      const r = await c.send(new ListBucketsCommand({}));
      assert.equal(r.Owner!.ID, 'e'.repeat(64));
      assert.ok(r.Buckets!.some((b) => b.Name === name));
    } finally {
      c.destroy();
      await s.close();
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('a bad accounts file stops the start with a message that names the problem and never a secret', async () => {
    const other = mkdtempSync(join(tmpdir(), 'tessera-bad-'));
    const file = join(other, 'accounts.json');
    try {
      writeFileSync(file, '{ not json');
      await assert.rejects(startTestServer({ port: 0, accountsFile: file }), /accounts file .*: not valid JSON/);
      writeFileSync(file, JSON.stringify([{ accountId: '12', keys: [{ accessKeyId: 'AKIDBADACCOUNT01', secretAccessKey: 'a-secret-never-shown' }] }]));
      await assert.rejects(startTestServer({ port: 0, accountsFile: file }), (e: Error) => /account id "12": must be 12 digits/.test(e.message) && !e.message.includes('a-secret-never-shown'));
      writeFileSync(file, JSON.stringify([{ accountId: '555555555555', keys: [{ accessKeyId: 'tessera-root', secretAccessKey: 'a-different-secret' }] }]));
      await assert.rejects(startTestServer({ port: 0, accountsFile: file }), (e: Error) => /differs from the configured root secret key/.test(e.message) && !e.message.includes('a-different-secret'));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
