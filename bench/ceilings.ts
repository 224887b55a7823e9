/**
 * Ceilings measured in the same run as the figures they bound, so that a
 * figure reads as a fraction of what this machine gives right now:
 *
 * - small: the do-nothing node:http server (bench/null-server.ts) under the
 *   same lean client, concurrency, warm-up and request count as the 4 KiB
 *   PUT/GET scenario; Tessera's ops/s are printed as a fraction of its.
 * - MD5: one core's MD5 rate (node:crypto, 1 MiB buffers, in this process).
 *   A large PUT is MD5-bound by design, so large PUT and multipart are
 *   printed as a fraction of it.
 * - loopback: 256 MiB PUT and GET against the do-nothing server with the
 *   same client; a large GET is printed as a fraction of its GET rate.
 */
import { createHash } from 'node:crypto';
import { generate, objectPath, type LeanS3 } from './client.js';
import { BLOCK, MiB, SMALL_CONCURRENCY, fmt, median, now, smallPutGet, smallRow, type Probe, type Row } from './scenarios.js';

/** One core's MD5 over `size` bytes of 1 MiB buffers, `reps` times; the median counts. */
export async function md5Ceiling(size: number, reps: number): Promise<Row[]> {
  createHash('md5').update(BLOCK).digest(); // warm
  const runs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = now();
    const h = createHash('md5');
    for (let left = size; left > 0; left -= MiB) h.update(left >= MiB ? BLOCK : BLOCK.subarray(0, left));
    h.digest();
    runs.push(size / MiB / ((now() - t) / 1000));
  }
  const rate = median(runs);
  return [{
    scenario: 'ceiling: MD5, one core', measured: `${fmt(rate)} MiB/s`, target: '-', value: rate, ceiling: 'MD5',
    detail: `node:crypto over ${size / MiB} MiB of 1 MiB buffers; runs: ${runs.map((x) => fmt(x)).join(', ')} MiB/s`,
  }];
}

/** The 4 KiB PUT/GET scenario's driver against the do-nothing server. */
export async function smallCeiling(c: LeanS3, count: number, probe: Probe): Promise<Row[]> {
  const body = Buffer.alloc(4096, 0x61);
  const { put, get } = await smallPutGet(c, (i) => objectPath('ceiling', `small/${i}`), (i) => objectPath('ceiling', `warm/${i}`), body, count, probe);
  return [
    smallRow(`ceiling: node:http 4 KiB PUT, c=${SMALL_CONCURRENCY}`, put, count, undefined, { ceiling: 'small PUT' }),
    smallRow(`ceiling: node:http 4 KiB GET, c=${SMALL_CONCURRENCY}`, get, count, undefined, { ceiling: 'small GET' }),
  ];
}

/** A `size` PUT and GET against the do-nothing server, `reps` times each, as the large scenario sends them; the median counts. */
export async function loopbackCeiling(c: LeanS3, size: number, reps: number): Promise<Row[]> {
  const path = objectPath('ceiling', 'large');
  const puts: number[] = [];
  const gets: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = now();
    await c.ok('PUT', path, { body: generate(size, BLOCK), contentLength: size });
    puts.push(size / MiB / ((now() - t) / 1000));
  }
  for (let r = 0; r < reps; r++) {
    const t = now();
    const a = await c.ok('GET', path, { query: { bytes: String(size) }, discardBody: true });
    gets.push(size / MiB / ((now() - t) / 1000));
    if (a.bytes !== size) throw new Error(`ceiling GET returned ${a.bytes} bytes`);
  }
  const row = (op: string, runs: number[], extra: Partial<Row>): Row => ({
    scenario: `ceiling: node:http ${size / MiB} MiB ${op}`, measured: `${fmt(median(runs))} MiB/s`, target: '-', value: median(runs),
    detail: `runs: ${runs.map((x) => fmt(x)).join(', ')} MiB/s`, ...extra,
  });
  return [row('PUT', puts, {}), row('GET', gets, { ceiling: 'loopback GET' })];
}
