/**
 * rclone's s3 backend against a live server, over HTTP and over HTTPS (the
 * test's certificate trusted through RCLONE_CA_CERT): a multipart `copyto`
 * up and back, and a server-side `copy` between buckets that rclone does with
 * UploadPartCopy once the object is past `--s3-copy-cutoff`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  MiB, PROTOCOLS, assertPresent, bucket, cleanEnv, clientServer, etagOf, fixture, multipartEtag, needs, run, sha256File, writeScratch,
  type ClientServer,
} from './lib.js';

function rcloneEnv(cs: ClientServer): NodeJS.ProcessEnv {
  return cleanEnv({
    RCLONE_CONFIG: writeScratch(cs, 'rclone.conf', ''),
    RCLONE_CONFIG_T_TYPE: 's3',
    RCLONE_CONFIG_T_PROVIDER: 'Other',
    RCLONE_CONFIG_T_ENV_AUTH: 'false',
    RCLONE_CONFIG_T_ACCESS_KEY_ID: cs.server.accessKeyId,
    RCLONE_CONFIG_T_SECRET_ACCESS_KEY: cs.server.secretAccessKey,
    RCLONE_CONFIG_T_ENDPOINT: cs.server.url,
    RCLONE_CONFIG_T_REGION: 'us-east-1',
    RCLONE_CONFIG_T_FORCE_PATH_STYLE: 'true',
    ...(cs.caFile ? { RCLONE_CA_CERT: cs.caFile } : {}),
  });
}

for (const protocol of PROTOCOLS) {
  describe(`rclone over ${protocol}`, needs('rclone', 'openssl'), () => {
    let cs: ClientServer;
    let env: NodeJS.ProcessEnv;
    const rclone = (...args: string[]) => run('rclone', ['--retries', '1', '--low-level-retries', '1', ...args], { env });

    before(async () => {
      assertPresent('rclone', 'openssl');
      cs = await clientServer(protocol);
      env = rcloneEnv(cs);
    });
    after(async () => cs?.close());

    it('copyto of 21 MiB in 5 MiB parts, up and back byte-exact', async () => {
      const file = await fixture('mid', 21 * MiB);
      const b = bucket('rc-up');
      const back = join(cs.dir, 'rc-back.bin');
      await rclone('mkdir', `t:${b}`);
      await rclone('copyto', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', file, `t:${b}/dir/up.bin`);
      assert.equal(await etagOf(cs, b, 'dir/up.bin'), await multipartEtag(file, 5 * MiB));
      const listed = (await rclone('lsf', '-R', `t:${b}`)).stdout.split('\n').filter(Boolean).sort();
      assert.deepEqual(listed, ['dir/', 'dir/up.bin']);
      await rclone('copyto', `t:${b}/dir/up.bin`, back);
      assert.equal(await sha256File(back), await sha256File(file));
    });

    it('copy between buckets of 64 MiB: server-side, in 5 MiB UploadPartCopy parts', async () => {
      const file = await fixture('copy-src', 64 * MiB);
      const a = bucket('rc-src');
      const b = bucket('rc-dst');
      const back = join(cs.dir, 'rc-copy-back.bin');
      await rclone('mkdir', `t:${a}`);
      await rclone('mkdir', `t:${b}`);
      await rclone('copyto', '--s3-upload-cutoff', '8M', '--s3-chunk-size', '8M', file, `t:${a}/big.bin`);
      assert.equal(await etagOf(cs, a, 'big.bin'), await multipartEtag(file, 8 * MiB));
      await rclone('copy', '--s3-copy-cutoff', '5M', `t:${a}`, `t:${b}`);
      // 5 MiB parts: the copy was made by the server, not re-uploaded in rclone's 8 MiB chunks.
      assert.equal(await etagOf(cs, b, 'big.bin'), await multipartEtag(file, 5 * MiB));
      await rclone('copyto', `t:${b}/big.bin`, back);
      assert.equal(await sha256File(back), await sha256File(file));
    });
  });
}
