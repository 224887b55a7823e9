import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateBucketCommand, GetObjectCommand, ListBucketsCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { startServer } from '../../src/index.js';
import { TEST_META, testMeta } from '../helpers.js';
import { kill9, spawnServer } from '../child-server.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const ROOT_KEY = { accessKeyId: 'tessera-root', secretAccessKey: 'tessera-root-secret-key' };

function sdk(url: string, credentials = ROOT_KEY): S3Client {
  return new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials });
}

/** `tessera <args>` as a child process, to its end: its exit code and output. */
async function tessera(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: ROOT, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (e: any) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const inUse = (dataDir: string, pid: number) =>
  new RegExp(`^tessera: data directory ${dataDir} is in use by another Tessera server \\(pid ${pid}, started \\d{4}-[^)]+\\); stop it or choose another --data-dir\\n$`);

// PostgreSQL-mode gateways share their data by design: the lock is SQLite mode's only.
describe('one server per data directory (SQLite mode)', { skip: TEST_META === 'postgres' && 'SQLite mode only' }, () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const clients: S3Client[] = [];
  after(async () => {
    for (const c of clients) c.destroy();
    for (const c of children) await kill9(c);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  function newDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-lock-'));
    dirs.push(dir);
    return dir;
  }
  async function serve(dataDir: string): Promise<{ child: ChildProcess; url: string; s3: S3Client }> {
    const { child, url } = await spawnServer(dataDir, await testMeta(), { args: ['--log-level', 'warn'], env: { TESSERA_JOB_INTERVAL_MS: '0' } });
    children.push(child);
    const s3 = sdk(url);
    clients.push(s3);
    return { child, url, s3 };
  }

  it('a second `tessera serve` on the directory exits 1 naming the first; the first goes on writing versions in order', async () => {
    const dataDir = newDir();
    const { child, s3 } = await serve(dataDir);
    const Bucket = 'versioned';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'one' }));

    const second = await tessera('serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn');
    assert.equal(second.code, 1);
    assert.match(second.stderr, inUse(dataDir, child.pid!), 'one line, no stack trace');
    assert.equal(second.stdout, '', 'it never listened');

    // What a second server used to break: PUTs into a versioned bucket (500, UNIQUE constraint) and the version order.
    const ids: string[] = [];
    for (const body of ['two', 'three']) ids.unshift((await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: body }))).VersionId!);
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket }));
    assert.deepEqual(listed.Versions!.slice(0, 2).map((v) => v.VersionId), ids);
    assert.equal(listed.Versions!.length, 3);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }));
    assert.equal(await got.Body!.transformToString(), 'three');
  });

  it('in one process: a second startServer on the directory rejects; after close() a new one starts, and a failed start holds nothing', async () => {
    const dataDir = newDir();
    const opts = { dataDir, port: 0, jobIntervalMs: 0 };
    const first = await startServer(opts);
    try {
      const refused = await startServer(opts).then(async (s) => {
        await s.close();
        assert.fail('a second server started on the directory');
      }, (e: Error) => e);
      assert.match(refused.message, new RegExp(`^data directory ${dataDir} is in use by another Tessera server \\(pid ${process.pid}, started `));
      // The refused open in this process leaves the lock held against other processes too.
      const other = await tessera('serve', '--port', '0', '--data-dir', dataDir);
      assert.equal(other.code, 1);
      assert.match(other.stderr, inUse(dataDir, process.pid));
      const s3 = sdk(first.url);
      clients.push(s3);
      assert.ok((await s3.send(new ListBucketsCommand({}))).Buckets, 'the first still answers');
    } finally {
      await first.close();
    }
    assert.ok(!existsSync(join(dataDir, 'serve.pid')), 'close() removes the pid file');
    const second = await startServer(opts);
    // Taken: a start on another directory that fails after its lock (the port is in use) releases it.
    const otherDir = newDir();
    await assert.rejects(startServer({ ...opts, dataDir: otherDir, port: second.port }), /EADDRINUSE/);
    await second.close();
    await assert.rejects(startServer({ ...opts, masterKeyFile: join(dataDir, 'missing.key') }), /SSE master key file/);
    const third = await startServer({ ...opts, dataDir: otherDir });
    const fourth = await startServer(opts);
    await third.close();
    await fourth.close();
  });

  it('SIGKILL leaves no stale lock: a new server starts at once on the directory, over the data', async () => {
    const dataDir = newDir();
    const first = await serve(dataDir);
    await first.s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
    await first.s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'k', Body: 'survives' }));
    await kill9(first.child);
    assert.equal(readFileSync(join(dataDir, 'serve.pid'), 'utf8').split('\n')[0], String(first.child.pid), 'the killed server left its pid file');

    const second = await serve(dataDir);
    const got = await second.s3.send(new GetObjectCommand({ Bucket: 'kept', Key: 'k' }));
    assert.equal(await got.Body!.transformToString(), 'survives');
    assert.equal(readFileSync(join(dataDir, 'serve.pid'), 'utf8').split('\n')[0], String(second.child.pid));
  });

  it('`tessera admin` works on the directory while a server runs, and the server sees its changes', async () => {
    const dataDir = newDir();
    const { url } = await serve(dataDir);
    const added = await tessera('admin', 'account', 'add', '--display-name', 'beside-a-server', '--with-key', '--data-dir', dataDir);
    assert.equal(added.code, 0, added.stderr);
    const account = JSON.parse(added.stdout);
    const listed = await tessera('admin', 'account', 'list', '--data-dir', dataDir);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(JSON.parse(listed.stdout).some((a: { accountId: string }) => a.accountId === account.accountId));

    const as = sdk(url, { accessKeyId: account.key.accessKeyId, secretAccessKey: account.key.secretAccessKey });
    clients.push(as);
    assert.deepEqual((await as.send(new ListBucketsCommand({}))).Buckets ?? [], []);
  });
});
