/**
 * boto3 against a live server, over HTTP and over HTTPS (`verify=` the
 * test's own certificate): `upload_file` with a small multipart_chunksize,
 * the managed `copy()` with a small multipart threshold (UploadPartCopy), and
 * a versioned bucket whose old version is listed and copied with `copy()`,
 * and SSE-C: `upload_file` / `download_file` with a customer key, then a
 * managed `copy()` (UploadPartCopy) from that key to another.
 * The Python side lives in boto3_scenarios.py and reports what it saw.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  MiB, PROTOCOLS, PYTHON_WITH_BOTO3, assertPresent, bucket, clientServer, fixture, multipartEtag, needs, run, sha256File,
  type ClientServer,
} from './lib.js';

const md5Base64 = (b: Buffer) => createHash('md5').update(b).digest('base64');

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

    it('SSE-C: upload_file in 5 MiB parts and download_file with the key, then copy() with a 5 MiB threshold (UploadPartCopy) to another key, byte-exact', async () => {
      const file = await fixture('mid', 21 * MiB);
      const [keyA, keyB] = [randomBytes(32), randomBytes(32)];
      const seen = await scenario(cs, 'sse_c_copy', {
        bucket: bucket('boto-ssec'), bucket2: bucket('boto-ssec-dst'), file, part_mib: 5, key_a: keyA.toString('hex'), key_b: keyB.toString('hex'),
        back: join(cs.dir, 'ssec-back.bin'), back2: join(cs.dir, 'ssec-copy-back.bin'),
      });
      const sha256 = await sha256File(file);
      const { uploaded, copied } = seen;
      assert.deepEqual([uploaded.size, uploaded.sha256, uploaded.algorithm, uploaded.key_md5], [21 * MiB, sha256, 'AES256', md5Base64(keyA)]);
      assert.equal(uploaded.head_without_key, 400, 'reading an SSE-C object without its key');
      // Five parts each way: the upload was multipart, and so was the copy (UploadPartCopy, not CopyObject).
      assert.match(uploaded.etag, /^"[0-9a-f]{32}-5"$/);
      assert.deepEqual([copied.size, copied.sha256, copied.algorithm, copied.key_md5], [21 * MiB, sha256, 'AES256', md5Base64(keyB)]);
      assert.match(copied.etag, /^"[0-9a-f]{32}-5"$/);
      const plain = await multipartEtag(file, 5 * MiB);
      assert.ok(uploaded.etag !== plain && copied.etag !== plain, 'as AWS, SSE-C part ETags are not MD5s of the plaintext');
      assert.equal(copied.head_with_source_key, 403, 'the copy is under the destination key, not the source key');
    });
  });
}
