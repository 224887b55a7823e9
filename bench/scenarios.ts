/**
 * The benchmark's scenarios. Each one drives the server over HTTP with the
 * lean client and returns rows of (measured, target). Bodies stream from a
 * generator that repeats one random 1 MiB block, so the client never holds
 * a whole large object; every write's ETag is checked so a fast wrong answer
 * cannot pass.
 */
import { createHash, randomBytes } from 'node:crypto';
import { generate, objectPath, type Answer, type LeanS3 } from './client.js';

export const MiB = 1024 * 1024;
export const BLOCK = randomBytes(MiB);

export interface Row {
  scenario: string;
  measured: string;
  target: string;
  /** undefined: informational, no target. */
  ok?: boolean;
  detail?: string;
  /** The measured figure as a number, in the unit of `measured` (for ratios to a ceiling). */
  value?: number;
  /** This row is the ceiling of that kind, measured in this run (bench/ceilings.ts). */
  ceiling?: CeilingKind;
  /** This row is printed as a fraction of the ceiling of that kind, when it was measured. */
  against?: CeilingKind;
}

/** Ceilings measured in the same run: the do-nothing server's small PUT/GET, one core's MD5, its loopback GET. */
export type CeilingKind = 'small PUT' | 'small GET' | 'MD5' | 'loopback GET';

/** Per-scenario observations the runner adds (server CPU). */
export interface Probe {
  cpuSeconds(): number;
}

// ------------------------------------------------------------------ helpers

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

export const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

/** Runs fn(0..count-1) with `concurrency` in flight; returns the wall time and each call's latency (ms). */
export async function pool(count: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<{ ms: number; lat: number[] }> {
  const lat: number[] = new Array(count);
  let next = 0;
  const start = now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        const t = now();
        await fn(i);
        lat[i] = now() - t;
      }
    }),
  );
  return { ms: now() - start, lat: lat.sort((a, b) => a - b) };
}

/** MD5 (hex) of what generate(size, BLOCK) yields. */
export function generatedMd5(size: number): string {
  const h = createHash('md5');
  for (let left = size; left > 0; left -= MiB) h.update(left >= MiB ? BLOCK : BLOCK.subarray(0, left));
  return h.digest('hex');
}

export function multipartEtag(partMd5s: string[]): string {
  const all = Buffer.concat(partMd5s.map((h) => Buffer.from(h, 'hex')));
  return `"${createHash('md5').update(all).digest('hex')}-${partMd5s.length}"`;
}

export function expectEtag(got: string | string[] | undefined, want: string, what: string): void {
  if (got !== want) throw new Error(`${what}: ETag ${got}, expected ${want}`);
}

export function tag(xml: Buffer, name: string): string {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml.toString('utf8'));
  if (!m) throw new Error(`no <${name}> in ${xml.toString('utf8').slice(0, 300)}`);
  return m[1].replace(/&quot;/g, '"').replace(/&#34;/g, '"').replace(/&amp;/g, '&');
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export async function createUpload(c: LeanS3, bucket: string, key: string, headers: Record<string, string> = {}): Promise<string> {
  return tag((await c.ok('POST', objectPath(bucket, key), { query: { uploads: '' }, headers })).body, 'UploadId');
}

export async function complete(c: LeanS3, bucket: string, key: string, uploadId: string, etags: string[]): Promise<{ ms: number; etag: string }> {
  const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
  const t = now();
  const a = await c.ok('POST', objectPath(bucket, key), { query: { uploadId }, body: Buffer.from(xml) });
  const ms = now() - t;
  if (!/<CompleteMultipartUploadResult/.test(a.body.toString('utf8'))) throw new Error(`Complete failed: ${a.body.toString('utf8').slice(0, 500)}`);
  return { ms, etag: tag(a.body, 'ETag') };
}

/** A multipart upload of `parts` parts of `partSize` from the generator, `concurrency` at a time. */
async function multipartUpload(c: LeanS3, bucket: string, key: string, parts: number, partSize: number, concurrency: number) {
  const start = now();
  const uploadId = await createUpload(c, bucket, key);
  const etags: string[] = new Array(parts);
  await pool(parts, concurrency, async (i) => {
    const a = await c.ok('PUT', objectPath(bucket, key), {
      query: { partNumber: String(i + 1), uploadId }, body: generate(partSize, BLOCK), contentLength: partSize,
    });
    etags[i] = String(a.headers.etag);
  });
  const done = await complete(c, bucket, key, uploadId, etags);
  return { ms: now() - start, completeMs: done.ms, etag: done.etag };
}

// ------------------------------------------------------------------ scenarios

/** Runs fn and returns, with its result, the server's and this process's CPU seconds spent meanwhile. */
export async function withCpu<T>(probe: Probe, fn: () => Promise<T>): Promise<T & { serverCpu: number; clientCpu: number }> {
  const s0 = probe.cpuSeconds();
  const c0 = process.cpuUsage();
  const r = await fn();
  const c1 = process.cpuUsage(c0);
  return { ...r, serverCpu: probe.cpuSeconds() - s0, clientCpu: (c1.user + c1.system) / 1e6 };
}

/** Concurrency and warm-up of the 4 KiB scenarios (and of their ceiling, bench/ceilings.ts). */
export const SMALL_CONCURRENCY = 16;
const SMALL_WARM = 500;

export type SmallRun = { ms: number; lat: number[]; serverCpu: number; clientCpu: number };

/**
 * The 4 KiB driver: `warm` PUTs and GETs (SMALL_WARM of each) before `count`
 * PUTs of `body` to key(i), then `count` GETs of them, SMALL_CONCURRENCY in flight.
 */
export async function smallPutGet(
  c: LeanS3, key: (i: number) => string, warm: (i: number) => string, body: Buffer, count: number, probe: Probe,
  checkPut: (a: Answer) => void = () => {},
): Promise<{ put: SmallRun; get: SmallRun }> {
  await pool(SMALL_WARM, SMALL_CONCURRENCY, (i) => c.ok('PUT', warm(i), { body }));
  const put = await withCpu(probe, () => pool(count, SMALL_CONCURRENCY, async (i) => checkPut(await c.ok('PUT', key(i), { body }))));
  await pool(SMALL_WARM, SMALL_CONCURRENCY, (i) => c.ok('GET', warm(i)));
  const get = await withCpu(probe, () => pool(count, SMALL_CONCURRENCY, async (i) => {
    const a = await c.ok('GET', key(i));
    if (a.bytes !== body.length) throw new Error(`GET 4 KiB returned ${a.bytes} bytes`);
  }));
  return { put, get };
}

/** A row of ops/s, latency and CPU per op for `count` small requests; no target when `target` is undefined. */
export function smallRow(name: string, r: SmallRun, count: number, target: number | undefined, extra: Partial<Row> = {}): Row {
  const ops = (count / r.ms) * 1000;
  const us = (sec: number) => fmt((sec / count) * 1e6);
  return {
    scenario: name, measured: `${fmt(ops)} ops/s`, value: ops,
    target: target === undefined ? '-' : `>= ${fmt(target)} ops/s`, ok: target === undefined ? undefined : ops >= target,
    detail: `p50 ${fmt(percentile(r.lat, 50), 2)} ms, p99 ${fmt(percentile(r.lat, 99), 2)} ms; CPU/op: server ${us(r.serverCpu)} us, client ${us(r.clientCpu)} us`,
    ...extra,
  };
}

/** 4 KiB PUT then GET at concurrency 16 (durable: each PUT is acknowledged after its commit). */
export async function smallObjects(c: LeanS3, bucket: string, count: number, probe: Probe): Promise<Row[]> {
  const body = randomBytes(4096);
  const etag = `"${createHash('md5').update(body).digest('hex')}"`;
  const key = (i: number) => objectPath(bucket, `small/${String(i).padStart(6, '0')}`);
  const { put, get } = await smallPutGet(c, key, (i) => objectPath(bucket, `warm/${i}`), body, count, probe,
    (a) => expectEtag(a.headers.etag, etag, 'PUT 4 KiB'));
  return [
    smallRow(`4 KiB PUT, c=${SMALL_CONCURRENCY}`, put, count, 1500, { against: 'small PUT' }),
    smallRow(`4 KiB GET, c=${SMALL_CONCURRENCY}`, get, count, 3200, { against: 'small GET' }),
  ];
}

/** One large object PUT and GET, `reps` times each; the median counts. */
export async function largeObject(c: LeanS3, bucket: string, size: number, reps: number): Promise<Row[]> {
  const etag = `"${generatedMd5(size)}"`;
  const puts: number[] = [];
  const gets: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = now();
    const a = await c.ok('PUT', objectPath(bucket, `large/${r}`), { body: generate(size, BLOCK), contentLength: size });
    puts.push(now() - t);
    expectEtag(a.headers.etag, etag, 'PUT large');
  }
  for (let r = 0; r < reps; r++) {
    const t = now();
    const a = await c.ok('GET', objectPath(bucket, `large/${r}`), { discardBody: true });
    gets.push(now() - t);
    if (a.bytes !== size) throw new Error(`GET large returned ${a.bytes} bytes`);
  }
  const mibs = (ms: number) => size / MiB / (ms / 1000);
  const label = `${size / MiB} MiB`;
  const detail = (xs: number[]) => `runs: ${xs.map((ms) => fmt(mibs(ms))).join(', ')} MiB/s`;
  return [
    { scenario: `${label} PUT`, measured: `${fmt(mibs(median(puts)))} MiB/s`, target: '>= 430 MiB/s', ok: mibs(median(puts)) >= 430, detail: detail(puts), value: mibs(median(puts)), against: 'MD5' },
    { scenario: `${label} GET`, measured: `${fmt(mibs(median(gets)))} MiB/s`, target: '>= 1,100 MiB/s', ok: mibs(median(gets)) >= 1100, detail: detail(gets), value: mibs(median(gets)), against: 'loopback GET' },
  ];
}

/** Multipart: 8 parts of 16 MiB, 4 at a time, then Complete; `reps` times, median. */
export async function multipart(c: LeanS3, bucket: string, reps: number): Promise<Row[]> {
  const parts = 8;
  const partSize = 16 * MiB;
  const want = multipartEtag(Array.from({ length: parts }, () => generatedMd5(partSize)));
  const totals: number[] = [];
  const completes: number[] = [];
  for (let r = 0; r < reps; r++) {
    const m = await multipartUpload(c, bucket, `mp/${r}`, parts, partSize, 4);
    expectEtag(m.etag, want, 'multipart Complete');
    totals.push(m.ms);
    completes.push(m.completeMs);
  }
  const mibs = (parts * partSize) / MiB / (median(totals) / 1000);
  const comp = median(completes);
  return [
    { scenario: 'multipart 8x16 MiB, 4 at a time', measured: `${fmt(mibs)} MiB/s`, target: '>= 500 MiB/s', ok: mibs >= 500, detail: `runs: ${totals.map((ms) => fmt((parts * partSize) / MiB / (ms / 1000))).join(', ')} MiB/s`, value: mibs, against: 'MD5' },
    { scenario: 'CompleteMultipartUpload (8 parts)', measured: `${fmt(comp, 1)} ms`, target: '<= 20 ms', ok: comp <= 20, detail: `runs: ${completes.map((x) => fmt(x, 1)).join(', ')} ms` },
  ];
}

/**
 * UploadPartCopy of a 512 MiB source in 8 ranges of 64 MiB, 4 at a time, then
 * Complete: from a single-blob source (each range is a slice of one blob, so
 * its MD5 takes one read pass) and from a source uploaded as 8 parts of 64 MiB
 * (each range is exactly one whole blob whose MD5 is stored: no read at all).
 * Compared with reading the 512 MiB once.
 */
export async function uploadPartCopy(c: LeanS3, bucket: string, reps: number): Promise<Row[]> {
  const size = 512 * MiB;
  const ranges = 8;
  const rangeSize = size / ranges;
  const md5s = Array.from({ length: ranges }, () => generatedMd5(rangeSize));
  const want = multipartEtag(md5s);
  await c.ok('PUT', objectPath(bucket, 'upc/single'), { body: generate(size, BLOCK), contentLength: size });
  await multipartUpload(c, bucket, 'upc/parts', ranges, rangeSize, 4);
  const reads: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = now();
    const a = await c.ok('GET', objectPath(bucket, 'upc/single'), { discardBody: true });
    reads.push(now() - t);
    if (a.bytes !== size) throw new Error('GET 512 MiB short');
  }
  const readOnce = median(reads);
  const rows: Row[] = [{ scenario: 'GET 512 MiB (read once, baseline)', measured: `${fmt(readOnce)} ms`, target: '-', detail: `${fmt(size / MiB / (readOnce / 1000))} MiB/s` }];
  for (const [source, label, target] of [['upc/single', 'in 8 ranges', 600], ['upc/parts', 'whole-blob-aligned', undefined]] as const) {
    const totals: number[] = [];
    const parts: number[] = [];
    for (let r = 0; r < reps; r++) {
      const key = `upc-dst/${label}/${r}`;
      const start = now();
      const uploadId = await createUpload(c, bucket, key);
      const etags: string[] = new Array(ranges);
      const p = await pool(ranges, 4, async (i) => {
        const a = await c.ok('PUT', objectPath(bucket, key), {
          query: { partNumber: String(i + 1), uploadId },
          headers: { 'x-amz-copy-source': objectPath(bucket, source), 'x-amz-copy-source-range': `bytes=${i * rangeSize}-${(i + 1) * rangeSize - 1}` },
        });
        etags[i] = tag(a.body, 'ETag');
        expectEtag(etags[i], `"${md5s[i]}"`, 'UploadPartCopy');
      });
      const done = await complete(c, bucket, key, uploadId, etags);
      expectEtag(done.etag, want, 'Complete after UploadPartCopy');
      totals.push(now() - start);
      parts.push(...p.lat);
    }
    parts.sort((a, b) => a - b);
    const total = median(totals);
    rows.push({
      scenario: `UploadPartCopy 512 MiB ${label} + Complete`,
      measured: `${fmt(total / 1000, 3)} s`,
      target: target === undefined ? '-' : `<= ${target / 1000} s`,
      ok: target === undefined ? undefined : total <= target,
      detail: `part p50 ${fmt(percentile(parts, 50), 1)} ms, max ${fmt(parts[parts.length - 1], 1)} ms; ${fmt(total / readOnce, 2)}x reading 512 MiB once`,
    });
  }
  return rows;
}

/** ListObjectsV2 over the `count` keys under `small/`, 1,000 per page; `reps` times, median. */
export async function listing(c: LeanS3, bucket: string, count: number, reps: number): Promise<Row[]> {
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = now();
    let seen = 0;
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix: 'small/', 'max-keys': '1000' };
      if (token) query['continuation-token'] = token;
      const a = await c.ok('GET', objectPath(bucket), { query });
      const xml = a.body.toString('utf8');
      seen += xml.split('<Key>').length - 1;
      token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? tag(a.body, 'NextContinuationToken') : undefined;
    } while (token);
    times.push(now() - t);
    if (seen !== count) throw new Error(`ListObjectsV2 saw ${seen} keys, expected ${count}`);
  }
  const kps = (count / median(times)) * 1000;
  return [{ scenario: `ListObjectsV2, ${fmt(count)} keys`, measured: `${fmt(kps)} keys/s`, target: '>= 45,000 keys/s', ok: kps >= 45000, detail: `runs: ${times.map((ms) => fmt((count / ms) * 1000)).join(', ')} keys/s` }];
}
