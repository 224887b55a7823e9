/**
 * The cost of server-side encryption: 4 KiB and 256 MiB PUT/GET with SSE-S3
 * and SSE-C, and UploadPartCopy of a 512 MiB SSE-C source to an SSE-C
 * destination under another key, each measured in the same run as its plain
 * counterpart (modes interleaved, so drift in the machine's load hits them
 * alike) and reported as a ratio: `cost` is the encrypted time over the plain
 * time, 1.00x meaning encryption is free. Informational rows: no targets.
 *
 * Checks, so that a fast wrong answer cannot pass: plain and SSE-S3 writes
 * keep the MD5 ETag; SSE-C writes echo the key's MD5 (their ETag is not the
 * MD5, as AWS); reads return every byte (small ones compared); the copied
 * SSE-C object reads back right across a part boundary under its new key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { generate, objectPath, type Answer, type LeanS3 } from './client.js';
import {
  BLOCK, MiB, complete, createUpload, expectEtag, fmt, generatedMd5, median, multipartEtag, now, percentile, pool, tag, withCpu,
  type Probe, type Row,
} from './scenarios.js';

type Mode = 'plain' | 'SSE-S3' | 'SSE-C';
const MODES: Mode[] = ['plain', 'SSE-S3', 'SSE-C'];

const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);
const md5b64 = (b: Buffer) => createHash('md5').update(b).digest('base64');

/** An SSE-C triad: destination (`x-amz-server-side-encryption-customer-*`) or copy source. */
function ssec(key: Buffer, prefix = 'x-amz-server-side-encryption-customer-'): Record<string, string> {
  return { [`${prefix}algorithm`]: 'AES256', [`${prefix}key`]: key.toString('base64'), [`${prefix}key-md5`]: md5b64(key) };
}
const COPY_SOURCE = 'x-amz-copy-source-server-side-encryption-customer-';

const writeHeaders = (mode: Mode): Record<string, string> =>
  mode === 'SSE-S3' ? { 'x-amz-server-side-encryption': 'AES256' } : mode === 'SSE-C' ? ssec(KEY_A) : {};
const readHeaders = (mode: Mode): Record<string, string> => (mode === 'SSE-C' ? ssec(KEY_A) : {});

function checkWrite(mode: Mode, a: Answer, md5hex: string, what: string): void {
  if (mode === 'SSE-C') {
    if (a.headers['x-amz-server-side-encryption-customer-key-md5'] !== md5b64(KEY_A)) throw new Error(`${what}: SSE-C key MD5 not echoed`);
    return;
  }
  if (mode === 'SSE-S3' && a.headers['x-amz-server-side-encryption'] !== 'AES256') throw new Error(`${what}: SSE-S3 not echoed`);
  expectEtag(a.headers.etag, `"${md5hex}"`, what);
}

/** `cost` of an encrypted figure: its time over the plain one's. */
const cost = (encryptedMs: number, plainMs: number) => `cost ${fmt(encryptedMs / plainMs, 2)}x plain`;

/** 4 KiB PUT then GET at concurrency 16, `count` per mode. */
export async function encryptedSmall(c: LeanS3, bucket: string, count: number, probe: Probe): Promise<Row[]> {
  const body = randomBytes(4096);
  const md5hex = createHash('md5').update(body).digest('hex');
  const key = (mode: Mode, i: number) => objectPath(bucket, `sse-small/${mode}/${String(i).padStart(6, '0')}`);
  await pool(300, 16, (i) => c.ok('PUT', objectPath(bucket, `sse-warm/${i}`), { body, headers: writeHeaders(MODES[i % 3]) }));
  type Run = { ms: number; lat: number[]; serverCpu: number; clientCpu: number };
  const puts = {} as Record<Mode, Run>;
  const gets = {} as Record<Mode, Run>;
  for (const mode of MODES) {
    puts[mode] = await withCpu(probe, () => pool(count, 16, async (i) => {
      checkWrite(mode, await c.ok('PUT', key(mode, i), { body, headers: writeHeaders(mode) }), md5hex, `PUT 4 KiB ${mode}`);
    }));
  }
  for (const mode of MODES) {
    gets[mode] = await withCpu(probe, () => pool(count, 16, async (i) => {
      const a = await c.ok('GET', key(mode, i), { headers: readHeaders(mode) });
      if (!a.body.equals(body)) throw new Error(`GET 4 KiB ${mode} returned other bytes (${a.bytes})`);
    }));
  }
  const rows = (op: string, runs: Record<Mode, Run>): Row[] => MODES.map((mode) => {
    const r = runs[mode];
    const us = fmt((r.serverCpu / count) * 1e6);
    const vs = mode === 'plain' ? 'baseline' : `${cost(r.ms, runs.plain.ms)}, server CPU/op ${fmt(r.serverCpu / runs.plain.serverCpu, 2)}x`;
    return {
      scenario: `4 KiB ${op} ${mode}, c=16`, measured: `${fmt((count / r.ms) * 1000)} ops/s`, target: '-',
      detail: `${vs}; p50 ${fmt(percentile(r.lat, 50), 2)} ms, p99 ${fmt(percentile(r.lat, 99), 2)} ms; server CPU/op ${us} us`,
    };
  });
  return [...rows('PUT', puts), ...rows('GET', gets)];
}

/** One 256 MiB (`size`) object PUT then GET per mode, `reps` times, modes interleaved; medians. */
export async function encryptedLarge(c: LeanS3, bucket: string, size: number, reps: number): Promise<Row[]> {
  const md5hex = generatedMd5(size);
  const puts = { plain: [], 'SSE-S3': [], 'SSE-C': [] } as Record<Mode, number[]>;
  const gets = { plain: [], 'SSE-S3': [], 'SSE-C': [] } as Record<Mode, number[]>;
  for (let r = 0; r < reps; r++) {
    for (const mode of MODES) {
      const t = now();
      const a = await c.ok('PUT', objectPath(bucket, `sse-large/${mode}/${r}`), { body: generate(size, BLOCK), contentLength: size, headers: writeHeaders(mode) });
      puts[mode].push(now() - t);
      checkWrite(mode, a, md5hex, `PUT ${size / MiB} MiB ${mode}`);
    }
  }
  for (let r = 0; r < reps; r++) {
    for (const mode of MODES) {
      const t = now();
      const a = await c.ok('GET', objectPath(bucket, `sse-large/${mode}/${r}`), { discardBody: true, headers: readHeaders(mode) });
      gets[mode].push(now() - t);
      if (a.bytes !== size) throw new Error(`GET ${size / MiB} MiB ${mode} returned ${a.bytes} bytes`);
    }
  }
  const mibs = (ms: number) => size / MiB / (ms / 1000);
  const rows = (op: string, runs: Record<Mode, number[]>): Row[] => MODES.map((mode) => ({
    scenario: `${size / MiB} MiB ${op} ${mode}`, measured: `${fmt(mibs(median(runs[mode])))} MiB/s`, target: '-',
    detail: `${mode === 'plain' ? 'baseline' : cost(median(runs[mode]), median(runs.plain))}; runs: ${runs[mode].map((ms) => fmt(mibs(ms))).join(', ')} MiB/s`,
  }));
  return [...rows('PUT', puts), ...rows('GET', gets)];
}

/** The copy's headers: plain, or SSE-C key A (source) -> SSE-C key B (destination). */
const copyModes = { plain: { source: 'sse-upc/plain', upload: {}, part: {} }, 'SSE-C': { source: 'sse-upc/sse-c', upload: ssec(KEY_B), part: { ...ssec(KEY_A, COPY_SOURCE), ...ssec(KEY_B) } } };
type CopyMode = keyof typeof copyModes;

/** UploadPartCopy of the whole source in `ranges` ranges, 4 at a time, then Complete; returns the total and each part's latency. */
async function copyInRanges(c: LeanS3, bucket: string, mode: CopyMode, key: string, size: number, ranges: number, md5s: string[]) {
  const { source, upload, part } = copyModes[mode];
  const rangeSize = size / ranges;
  const start = now();
  const uploadId = await createUpload(c, bucket, key, upload);
  const etags: string[] = new Array(ranges);
  const p = await pool(ranges, 4, async (i) => {
    const a = await c.ok('PUT', objectPath(bucket, key), {
      query: { partNumber: String(i + 1), uploadId },
      headers: { ...part, 'x-amz-copy-source': objectPath(bucket, source), 'x-amz-copy-source-range': `bytes=${i * rangeSize}-${(i + 1) * rangeSize - 1}` },
    });
    etags[i] = tag(a.body, 'ETag');
    if (mode === 'plain') expectEtag(etags[i], `"${md5s[i]}"`, 'UploadPartCopy');
    else if (!/^"[0-9a-f]{32}"$/.test(etags[i])) throw new Error(`UploadPartCopy SSE-C: ETag ${etags[i]}`);
  });
  const done = await complete(c, bucket, key, uploadId, etags);
  if (mode === 'plain') expectEtag(done.etag, multipartEtag(md5s), 'Complete after UploadPartCopy');
  else if (!done.etag.endsWith(`-${ranges}"`)) throw new Error(`Complete after UploadPartCopy SSE-C: ETag ${done.etag}`);
  return { ms: now() - start, lat: p.lat };
}

/** The generator's bytes at [first, first + length), `length` <= 1 MiB. */
function expectedBytes(first: number, length: number): Buffer {
  const at = first % MiB;
  return Buffer.concat([BLOCK.subarray(at), BLOCK]).subarray(0, length);
}

/**
 * UploadPartCopy of a 512 MiB source in 8 ranges of 64 MiB, 4 at a time, then
 * Complete: a plain source to a plain upload, and an SSE-C source (key A) to an
 * SSE-C upload (key B), `reps` times each, interleaved; medians.
 */
export async function encryptedCopy(c: LeanS3, bucket: string, reps: number): Promise<Row[]> {
  const size = 512 * MiB;
  const ranges = 8;
  const md5s = Array.from({ length: ranges }, () => generatedMd5(size / ranges));
  await c.ok('PUT', objectPath(bucket, copyModes.plain.source), { body: generate(size, BLOCK), contentLength: size });
  await c.ok('PUT', objectPath(bucket, copyModes['SSE-C'].source), { body: generate(size, BLOCK), contentLength: size, headers: ssec(KEY_A) });
  const runs = { plain: [] as number[], 'SSE-C': [] as number[] };
  const parts = { plain: [] as number[], 'SSE-C': [] as number[] };
  for (let r = 0; r < reps; r++) {
    for (const mode of ['plain', 'SSE-C'] as const) {
      const key = `sse-upc-dst/${mode}/${r}`;
      const m = await copyInRanges(c, bucket, mode, key, size, ranges, md5s);
      runs[mode].push(m.ms);
      parts[mode].push(...m.lat);
      if (mode === 'SSE-C' && r === 0) {
        const first = size / ranges - 1000;
        const a = await c.ok('GET', objectPath(bucket, key), { headers: { ...ssec(KEY_B), range: `bytes=${first}-${first + 1999}` } });
        if (!a.body.equals(expectedBytes(first, 2000))) throw new Error('UploadPartCopy SSE-C: the copy reads back other bytes across a part boundary');
      }
    }
  }
  return (['plain', 'SSE-C'] as const).map((mode) => {
    const total = median(runs[mode]);
    const lat = parts[mode].sort((a, b) => a - b);
    const label = mode === 'plain' ? 'plain -> plain' : 'SSE-C -> SSE-C (other key)';
    return {
      scenario: `UploadPartCopy 512 MiB ${label} + Complete`, measured: `${fmt(total / 1000, 3)} s`, target: '-',
      detail: `${mode === 'plain' ? 'baseline' : cost(total, median(runs.plain))}; part p50 ${fmt(percentile(lat, 50), 1)} ms, max ${fmt(lat[lat.length - 1], 1)} ms`,
    };
  });
}
