/**
 * s3cmd against a live server, over HTTP and over HTTPS (the test's
 * certificate in `ca_certs_file`, hostname checked): make a bucket,
 * `put --multipart-chunk-size-mb=5` of a 21 MiB file, list, get back
 * byte-exact, delete, remove the bucket. And with `bucketDefaults: legacy`,
 * `s3cmd cp` between keys, which sets the copy's ACL afterwards (PutObjectAcl:
 * refused with ACLs disabled, the AWS default since 2023).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  MiB, PROTOCOLS, assertPresent, bucket, cleanEnv, clientServer, etagOf, fixture, multipartEtag, needs, run, sha256File, writeScratch,
  type ClientServer,
} from './lib.js';
import { liveServer } from '../helpers.js';

function s3cmdConfig(cs: ClientServer): string {
  return writeScratch(cs, 's3cfg', [
    '[default]',
    `access_key = ${cs.server.accessKeyId}`,
    `secret_key = ${cs.server.secretAccessKey}`,
    `host_base = ${cs.hostPort}`,
    `host_bucket = ${cs.hostPort}`,
    `use_https = ${cs.protocol === 'https' ? 'True' : 'False'}`,
    'signature_v2 = False',
    'bucket_location = us-east-1',
    'check_ssl_certificate = True',
    'check_ssl_hostname = True',
    `ca_certs_file = ${cs.caFile ?? ''}`,
    '',
  ].join('\n'));
}

for (const protocol of PROTOCOLS) {
  describe(`s3cmd over ${protocol}`, needs('s3cmd', 'openssl'), () => {
    let cs: ClientServer;
    let config: string;
    const s3cmd = (...args: string[]) => run('s3cmd', ['-c', config, ...args], { env: cleanEnv() });

    before(async () => {
      assertPresent('s3cmd', 'openssl');
      cs = await clientServer(protocol);
      config = s3cmdConfig(cs);
    });
    after(async () => cs?.close());

    it('put --multipart-chunk-size-mb=5 of 21 MiB, ls, get back byte-exact, del, rb', async () => {
      const file = await fixture('mid', 21 * MiB);
      const b = bucket('s3cmd');
      const back = join(cs.dir, 's3cmd-back.bin');
      await s3cmd('mb', `s3://${b}`);
      await s3cmd('put', '--multipart-chunk-size-mb=5', file, `s3://${b}/some dir/mid.bin`);
      assert.equal(await etagOf(cs, b, 'some dir/mid.bin'), await multipartEtag(file, 5 * MiB));
      const listed = (await s3cmd('ls', '--recursive', `s3://${b}`)).stdout;
      assert.match(listed, new RegExp(`\\s${21 * MiB}\\s+s3://${b}/some dir/mid\\.bin`));
      await s3cmd('get', '--force', `s3://${b}/some dir/mid.bin`, back);
      assert.equal(await sha256File(back), await sha256File(file));
      await s3cmd('del', `s3://${b}/some dir/mid.bin`);
      assert.equal((await s3cmd('ls', `s3://${b}`)).stdout.trim(), '');
      await s3cmd('rb', `s3://${b}`);
    });
  });
}

describe('s3cmd with bucketDefaults: legacy', needs('s3cmd'), () => {
  let cs: ClientServer;
  let config: string;
  const s3cmd = (...args: string[]) => run('s3cmd', ['-c', config, ...args], { env: cleanEnv() });

  before(async () => {
    assertPresent('s3cmd');
    const live = await liveServer({ host: '127.0.0.1', bucketDefaults: 'legacy' });
    const dir = mkdtempSync(join(tmpdir(), 'tessera-clients-legacy-'));
    cs = {
      protocol: 'http', server: live.server, hostPort: `127.0.0.1:${live.server.port}`, dir, s3: live.s3,
      async close() {
        await live.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    config = s3cmdConfig(cs);
  });
  after(async () => cs?.close());

  it('mb, put, then cp between keys succeeds and both keys read back byte-exact', async () => {
    const file = writeScratch(cs, 'small.txt', 'legacy bytes\n');
    const b = bucket('s3cmd-legacy');
    await s3cmd('mb', `s3://${b}`);
    await s3cmd('put', file, `s3://${b}/a.txt`);
    const copied = await s3cmd('cp', `s3://${b}/a.txt`, `s3://${b}/b.txt`);
    assert.doesNotMatch(copied.stdout + copied.stderr, /ERROR/);
    for (const key of ['a.txt', 'b.txt']) {
      const back = join(cs.dir, `back-${key}`);
      await s3cmd('get', '--force', `s3://${b}/${key}`, back);
      assert.equal(await sha256File(back), await sha256File(file), key);
    }
  });
});
