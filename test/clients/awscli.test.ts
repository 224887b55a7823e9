/**
 * The AWS CLI against a live server, over HTTP and over HTTPS (where it
 * sends aws-chunked bodies with trailing checksums): the smoke scenario,
 * a 100 MiB multipart `cp` with the CLI's defaults (8 MiB parts) up and back,
 * and a 64 MiB server-side `cp s3://a s3://b` that the CLI does with
 * UploadPartCopy, and SSE-C (`--sse-c AES256 --sse-c-key fileb://`) up,
 * back and server-side to another key.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  MiB, PROTOCOLS, assertPresent, bucket, cleanEnv, clientServer, etagOf, fixture, multipartEtag, needs, run, sha256File, writeScratch,
  type ClientServer,
} from './lib.js';
import { HeadObjectCommand } from '@aws-sdk/client-s3';

/** The SSE-C triad of a customer key, as the SDK sends it. */
const ssec = (key: Buffer) => ({
  SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64'),
});

/** The CLI's default multipart_chunksize. */
const CLI_PART = 8 * MiB;

function awsEnv(cs: ClientServer): NodeJS.ProcessEnv {
  const config = writeScratch(cs, 'aws-config', '[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n');
  return cleanEnv({
    AWS_ACCESS_KEY_ID: cs.server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: cs.server.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: join(cs.dir, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    ...(cs.caFile ? { AWS_CA_BUNDLE: cs.caFile } : {}),
  });
}

for (const protocol of PROTOCOLS) {
  describe(`AWS CLI over ${protocol}`, needs('aws', 'openssl'), () => {
    let cs: ClientServer;
    let env: NodeJS.ProcessEnv;
    const aws = (...args: string[]) => run('aws', ['--endpoint-url', cs.server.url, ...args], { env });

    before(async () => {
      assertPresent('aws', 'openssl');
      cs = await clientServer(protocol);
      env = awsEnv(cs);
    });
    after(async () => cs?.close());

    it('smoke: mb, cp up and down, ls, rm, rb', async () => {
      const b = bucket('cli');
      const local = writeScratch(cs, 'hello.txt', `hello from the AWS CLI over ${protocol}\n`);
      const back = join(cs.dir, 'hello-back.txt');
      await aws('s3', 'mb', `s3://${b}`);
      await aws('s3', 'cp', local, `s3://${b}/dir/hello world+1.txt`);
      await aws('s3', 'cp', `s3://${b}/dir/hello world+1.txt`, back);
      assert.equal(readFileSync(back, 'utf8'), readFileSync(local, 'utf8'));
      const top = (await aws('s3', 'ls', `s3://${b}`)).stdout;
      assert.match(top, /PRE dir\//);
      const inDir = (await aws('s3', 'ls', `s3://${b}/dir/`)).stdout;
      assert.match(inDir, /\s\d+ hello world\+1\.txt/);
      await aws('s3', 'rm', `s3://${b}/dir/hello world+1.txt`);
      assert.equal((await aws('s3', 'ls', `s3://${b}/dir/`).catch(() => ({ stdout: '' }))).stdout.trim(), '');
      await aws('s3', 'rb', `s3://${b}`);
      const buckets = (await aws('s3', 'ls')).stdout;
      assert.ok(!buckets.includes(b), `bucket ${b} still listed:\n${buckets}`);
    });

    it('cp of a 100 MiB file: multipart with the CLI defaults, up and back byte-exact', async () => {
      const file = await fixture('big', 100 * MiB);
      const b = bucket('cli-big');
      const back = join(cs.dir, 'big-back.bin');
      await aws('s3', 'mb', `s3://${b}`);
      await aws('s3', 'cp', '--only-show-errors', file, `s3://${b}/big`);
      assert.equal(await etagOf(cs, b, 'big'), await multipartEtag(file, CLI_PART));
      await aws('s3', 'cp', '--only-show-errors', `s3://${b}/big`, back);
      assert.equal(await sha256File(back), await sha256File(file));
    });

    it('cp s3://a/big s3://b/big of 64 MiB: server-side, with UploadPartCopy', async () => {
      const file = await fixture('copy-src', 64 * MiB);
      const a = bucket('cli-src');
      const b = bucket('cli-dst');
      const back = join(cs.dir, 'copy-back.bin');
      await aws('s3', 'mb', `s3://${a}`);
      await aws('s3', 'mb', `s3://${b}`);
      await aws('s3', 'cp', '--only-show-errors', file, `s3://${a}/big`);
      await aws('s3', 'cp', '--only-show-errors', `s3://${a}/big`, `s3://${b}/big`);
      // Parts of the CLI's chunk size, each one the MD5 of its copied range.
      assert.equal(await etagOf(cs, b, 'big'), await multipartEtag(file, CLI_PART));
      await aws('s3', 'cp', '--only-show-errors', `s3://${b}/big`, back);
      assert.equal(await sha256File(back), await sha256File(file));
      await aws('s3', 'rm', `s3://${a}/big`);
      await aws('s3', 'cp', '--only-show-errors', `s3://${b}/big`, back);
      assert.equal(await sha256File(back), await sha256File(file), 'the copy outlives its source');
    });

    it('cp --sse-c AES256 --sse-c-key fileb:// of 21 MiB up and back byte-exact, and a server-side cp to another key', async () => {
      const file = await fixture('mid', 21 * MiB);
      const [keyA, keyB] = [randomBytes(32), randomBytes(32)];
      const fileA = writeScratch(cs, 'sse-c-key-a', keyA);
      const fileB = writeScratch(cs, 'sse-c-key-b', keyB);
      const b = bucket('cli-ssec');
      const back = join(cs.dir, 'ssec-back.bin');
      const sha256 = await sha256File(file);
      await aws('s3', 'mb', `s3://${b}`);
      await aws('s3', 'cp', '--only-show-errors', file, `s3://${b}/enc`, '--sse-c', 'AES256', '--sse-c-key', `fileb://${fileA}`);
      const head = await cs.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'enc', ...ssec(keyA) }));
      assert.deepEqual([head.ContentLength, head.SSECustomerAlgorithm, head.SSECustomerKeyMD5], [21 * MiB, 'AES256', ssec(keyA).SSECustomerKeyMD5]);
      assert.match(head.ETag!, /^"[0-9a-f]{32}-3"$/, 'multipart, in the 8 MiB parts the CLI uses by default');
      const noKey = await cs.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'enc' })).then(() => 200, (e) => e.$metadata?.httpStatusCode);
      assert.equal(noKey, 400, 'the object is SSE-C: no read without its key');
      await aws('s3', 'cp', '--only-show-errors', `s3://${b}/enc`, back, '--sse-c', 'AES256', '--sse-c-key', `fileb://${fileA}`);
      assert.equal(await sha256File(back), sha256);
      await aws('s3', 'cp', '--only-show-errors', `s3://${b}/enc`, `s3://${b}/rekeyed`, '--sse-c-copy-source', 'AES256',
        '--sse-c-copy-source-key', `fileb://${fileA}`, '--sse-c', 'AES256', '--sse-c-key', `fileb://${fileB}`);
      await aws('s3', 'cp', '--only-show-errors', `s3://${b}/rekeyed`, back, '--sse-c', 'AES256', '--sse-c-key', `fileb://${fileB}`);
      assert.equal(await sha256File(back), sha256, 'the server-side copy under the other key');
    });
  });
}
