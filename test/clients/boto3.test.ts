/**
 * boto3 against a live server, over HTTP and over HTTPS (`verify=` the
 * test's own certificate): `upload_file` with a small multipart_chunksize,
 * the managed `copy()` with a small multipart threshold (UploadPartCopy), and
 * a versioned bucket whose old version is listed and copied with `copy()`.
 * The Python side lives in boto3_scenarios.py and reports what it saw.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  MiB, PROTOCOLS, PYTHON_WITH_BOTO3, assertPresent, bucket, clientServer, fixture, multipartEtag, needs, run, sha256File,
  type ClientServer,
} from './lib.js';

const SCRIPT = fileURLToPath(new URL('./boto3_scenarios.py', import.meta.url));

async function scenario(cs: ClientServer, name: string, settings: Record<string, unknown>): Promise<any> {
  const all = {
    endpoint: cs.server.url, access_key: cs.server.accessKeyId, secret_key: cs.server.secretAccessKey, ca: cs.caFile ?? null, ...settings,
  };
  const { stdout } = await run(PYTHON_WITH_BOTO3 ?? 'python3', [SCRIPT, name, JSON.stringify(all)]);
  const last = stdout.trim().split('\n').pop()!;
  return JSON.parse(last);
}

for (const protocol of PROTOCOLS) {
  describe(`boto3 over ${protocol}`, needs('boto3', 'openssl'), () => {
    let cs: ClientServer;

    before(async () => {
      assertPresent('boto3', 'openssl');
      cs = await clientServer(protocol);
    });
    after(async () => cs?.close());

    it('upload_file with a 5 MiB multipart_chunksize, downloaded back byte-exact', async () => {
      const file = await fixture('mid', 21 * MiB);
      const seen = await scenario(cs, 'upload_file', { bucket: bucket('boto-up'), file, part_mib: 5, back: join(cs.dir, 'up-back.bin') });
      assert.equal(seen.size, 21 * MiB);
      assert.equal(seen.etag, await multipartEtag(file, 5 * MiB));
      assert.equal(seen.sha256, await sha256File(file));
    });

    it('managed copy() of 64 MiB with a 5 MiB multipart threshold: UploadPartCopy, byte-exact after the source is deleted', async () => {
      const file = await fixture('copy-src', 64 * MiB);
      const seen = await scenario(cs, 'managed_copy', {
        bucket: bucket('boto-src'), bucket2: bucket('boto-dst'), file, part_mib: 5, back: join(cs.dir, 'copy-back.bin'),
      });
      assert.equal(seen.size, 64 * MiB);
      assert.equal(seen.etag, await multipartEtag(file, 5 * MiB));
      assert.equal(seen.sha256, await sha256File(file));
    });

    it('list_object_versions, then copy() of the old version: byte-exact, the current version untouched', async () => {
      const file = await fixture('mid', 21 * MiB);
      const seen = await scenario(cs, 'copy_old_version', { bucket: bucket('boto-ver'), file, part_mib: 5, back: join(cs.dir, 'ver-back.bin') });
      assert.equal(seen.versions.length, 2, `versions listed: ${JSON.stringify(seen.versions)}`);
      const [newest, oldest] = seen.versions;
      assert.deepEqual([newest.latest, oldest.latest], [true, false]);
      assert.equal(oldest.size, 21 * MiB);
      assert.equal(oldest.etag, await multipartEtag(file, 8 * MiB));
      assert.equal(seen.etag, await multipartEtag(file, 5 * MiB));
      assert.equal(seen.sha256, await sha256File(file));
      assert.equal(seen.current, 'the newer, small version');
    });
  });
}
