import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutBucketCorsCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { chromium, type Browser } from 'playwright-core';
import { bucketName, client, liveServer } from '../helpers.js';

/**
 * A web page on another origin uploads a 12 MiB file in three parts to
 * presigned UploadPart URLs, reads each part's ETag from the response (the
 * bucket's CORS rule exposes it), completes the upload with a presigned
 * CompleteMultipartUpload URL and reads the object back: what a browser
 * upload widget does against S3. Headless Chromium (Debian's package) is
 * driven with playwright-core.
 */
const CHROMIUM = '/usr/bin/chromium';
const SIZE = 12 * 1024 * 1024;
const PART = 5 * 1024 * 1024;

/** The file's bytes: a fixed pattern both the page and the test can produce. */
function pattern(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >>> 13)) & 255;
  return b;
}

let close: () => Promise<void>;
let s3: S3Client;
let presigner: S3Client;
let page: Server;
let pageOrigin: string;
let browser: Browser | undefined;

before(async () => {
  const live = await liveServer();
  close = live.close;
  s3 = live.s3;
  // Presigned URLs must not carry a checksum of an empty body (the SDK's default would add one).
  presigner = client(live.server, { requestChecksumCalculation: 'WHEN_REQUIRED' });
  page = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>upload</title><p>upload page</p>');
  });
  await new Promise<void>((ok) => page.listen(0, '127.0.0.1', ok));
  pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }
});

after(async () => {
  await browser?.close();
  presigner?.destroy();
  await new Promise<void>((ok) => page?.close(() => ok()));
  await close?.();
});

describe('Browser multipart upload', () => {
  it('UploadPart to presigned URLs from a page on another origin, CompleteMultipartUpload, read back (12 MiB)', async (t) => {
    if (!browser) return t.skip(`${CHROMIUM} is not installed (apt-get install -y chromium)`);
    const bucket = bucketName('browser');
    const key = 'from-the-browser.bin';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: { CORSRules: [{ AllowedOrigins: [pageOrigin], AllowedMethods: ['GET', 'PUT', 'POST'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 }] },
    }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const parts = [1, 2, 3];
    const partUrls = await Promise.all(parts.map((PartNumber) => getSignedUrl(presigner, new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber }), { expiresIn: 600 })));
    const completeUrl = await getSignedUrl(presigner, new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }), { expiresIn: 600 });
    const getUrl = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 });

    const tab = await browser.newPage();
    await tab.goto(`${pageOrigin}/`);
    const result = await tab.evaluate(async ({ partUrls, completeUrl, getUrl, size, part }) => {
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >>> 13)) & 255;
      const file = new Blob([data]);
      const etags: string[] = [];
      for (let n = 0; n < partUrls.length; n++) {
        const r = await fetch(partUrls[n], { method: 'PUT', body: file.slice(n * part, Math.min(size, (n + 1) * part)) });
        if (!r.ok) return { error: `part ${n + 1}: ${r.status} ${await r.text()}` };
        etags.push(r.headers.get('ETag') ?? '');
      }
      const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
      const done = await fetch(completeUrl, { method: 'POST', body: xml, headers: { 'Content-Type': 'application/xml' } });
      const completeBody = await done.text();
      const back = new Uint8Array(await (await fetch(getUrl)).arrayBuffer());
      let same = back.length === size;
      for (let i = 0; same && i < size; i++) same = back[i] === data[i];
      return { etags, completeStatus: done.status, completeBody, readBack: back.length, same };
    }, { partUrls, completeUrl, getUrl, size: SIZE, part: PART });

    assert.equal(result.error, undefined, result.error);
    const data = pattern(SIZE);
    const md5s = parts.map((n) => createHash('md5').update(data.subarray((n - 1) * PART, Math.min(SIZE, n * PART))).digest());
    assert.deepEqual(result.etags, md5s.map((m) => `"${m.toString('hex')}"`), 'the page read every part\'s ETag');
    assert.equal(result.completeStatus, 200);
    const multipartEtag = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-3"`;
    assert.match(result.completeBody!, new RegExp(`<ETag>(${multipartEtag}|&quot;${multipartEtag.slice(1, -1)}&quot;)</ETag>`));
    assert.equal(result.readBack, SIZE);
    assert.equal(result.same, true, 'the page read back the bytes it uploaded');
    const stored = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
    assert.equal(createHash('sha256').update(stored).digest('hex'), createHash('sha256').update(data).digest('hex'));
    await tab.close();
  });
});
