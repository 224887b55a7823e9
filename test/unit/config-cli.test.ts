/** `npm start` end to end: flags, TESSERA_* variables and a config file reach the running server. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('npm start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  let child: ChildProcess | undefined;
  after(async () => {
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((ok) => child!.once('exit', ok));
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('npm start honours --port/--root-access-key over TESSERA_* over --config, and prints endpoint and credentials', async () => {
    const config = join(dir, 'tessera.json');
    writeFileSync(config, JSON.stringify({ 'root-access-key': 'from-file', rootSecretKey: 'secret-from-file', region: 'eu-west-1', dataDir: join(dir, 'file-data'), logLevel: 'warn' }));
    child = spawn('npm', ['start', '--silent', '--', '--port', '0', '--root-access-key', 'from-flag', '--config', config], {
      cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TESSERA_ROOT_ACCESS_KEY: 'from-env', TESSERA_DATA_DIR: join(dir, 'env-data'), TESSERA_PORT: '1', TESSERA_JOB_INTERVAL_MS: '0' },
    });
    let out = '';
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const banner = await new Promise<string>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`no banner: ${out}`)), 60_000);
      child!.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (/canonical id:.*\n/.test(out)) {
          clearTimeout(timer);
          ok(out);
        }
      });
      child!.once('exit', (code) => fail(new Error(`exited ${code}: ${out}`)));
    });
    const url = /listening on (http:\/\/[^\s]+)/.exec(banner)?.[1];
    assert.ok(url, banner);
    assert.notEqual(new URL(url).port, '1', 'the flag beats TESSERA_PORT');
    assert.match(banner, /access key:\s+from-flag\b/);
    assert.match(banner, /secret key:\s+secret-from-file\b/);
    assert.match(banner, /region:\s+eu-west-1/);
    assert.match(banner, new RegExp(`data directory:\\s+${join(dir, 'env-data')}`));
    assert.match(banner, /account id:\s+\d{12}/);

    const s3 = new S3Client({ endpoint: url, region: 'eu-west-1', forcePathStyle: true, credentials: { accessKeyId: 'from-flag', secretAccessKey: 'secret-from-file' } });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'cli-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      assert.equal((await s3.send(new HeadBucketCommand({ Bucket: 'cli-bucket' }))).BucketRegion, 'eu-west-1');
      assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name), ['cli-bucket']);
    } finally {
      s3.destroy();
    }
    assert.ok(existsSync(join(dir, 'env-data', 'meta.sqlite')), 'TESSERA_DATA_DIR beats the file');
    assert.ok(!existsSync(join(dir, 'file-data')));
  });

  it('npm start --master-key-file naming a missing file exits 1 with an error naming it', async () => {
    const missing = join(dir, 'missing-master.key');
    const run = spawn('npm', ['start', '--silent', '--', '--port', '0', '--data-dir', join(dir, 'mk-data'), '--master-key-file', missing], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TESSERA_JOB_INTERVAL_MS: '0' },
    });
    let err = '';
    run.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise((ok) => run.once('exit', ok));
    assert.equal(code, 1);
    assert.match(err, new RegExp(`SSE master key file ${missing}: not found`));
  });
});
