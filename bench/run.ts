/**
 * `npm run bench`: Tessera's speed, measured on this machine with the server
 * in a child process and a lean signed client (bench/client.ts). Prints a
 * table of measured figures against the targets; never part of `npm test`.
 *
 * Each figure that has one is also printed as a fraction of a ceiling measured
 * in the same run (bench/ceilings.ts): the 4 KiB PUT/GET of a do-nothing
 * node:http server under the same client and settings (with small), one
 * core's MD5 rate (with large or multipart) and that server's loopback rate
 * for 256 MiB (with large). The 1-minute load average is printed as of the
 * start and the end of the run.
 *
 * Environment:
 *   BENCH_ONLY=small,large,multipart,copy,list,encrypted
 *                                                run a subset (list needs small; encrypted is
 *                                                encrypted-small,encrypted-large,encrypted-copy)
 *   BENCH_SMALL_COUNT=20000                      4 KiB objects (and keys listed)
 *   BENCH_SSE_SMALL_COUNT=5000                   4 KiB objects per encryption mode
 *   BENCH_REPS=3                                 repetitions of the large scenarios
 *   BENCH_CPU_PROF=<dir>                         write the server's --cpu-prof there
 */
import { cpus, loadavg } from 'node:os';
import { LeanS3, objectPath } from './client.js';
import { MiB, largeObject, listing, multipart, smallObjects, uploadPartCopy, type CeilingKind, type Probe, type Row } from './scenarios.js';
import { startBenchServer, startCeilingServer, type BenchServer, type ChildServer } from './server.js';
import { encryptedCopy, encryptedLarge, encryptedSmall } from './encrypted.js';
import { loopbackCeiling, md5Ceiling, smallCeiling } from './ceilings.js';

const only = new Set((process.env.BENCH_ONLY ?? 'small,large,multipart,copy,list,encrypted').split(',').map((s) => s.trim()));
if (only.has('encrypted')) for (const name of ['encrypted-small', 'encrypted-large', 'encrypted-copy']) only.add(name);
const sseSmallCount = Number(process.env.BENCH_SSE_SMALL_COUNT ?? 5_000);
const smallCount = Number(process.env.BENCH_SMALL_COUNT ?? 20_000);
const reps = Number(process.env.BENCH_REPS ?? 3);

const loadAtStart = loadavg()[0];
const rows: Row[] = [];

/** Runs fn when one of `when` was asked for; reports its wall time and the CPU of the server behind `probe`. */
async function phase(name: string, probe: Probe | undefined, fn: () => Promise<Row[]>, when = [name]): Promise<void> {
  if (!when.some((w) => only.has(w))) return;
  const cpu0 = probe?.cpuSeconds() ?? 0;
  const t0 = Date.now();
  process.stderr.write(`bench: ${name} ...`);
  const got = await fn();
  const wall = (Date.now() - t0) / 1000;
  if (probe) {
    const cpu = probe.cpuSeconds() - cpu0;
    process.stderr.write(` ${wall.toFixed(1)} s, server CPU ${cpu.toFixed(1)} s (${((cpu / wall) * 100).toFixed(0)}% of one core)\n`);
  } else process.stderr.write(` ${wall.toFixed(1)} s\n`);
  rows.push(...got);
}

// One core's MD5 in this process, before any server runs.
await phase('ceiling MD5', undefined, () => md5Ceiling(256 * MiB, reps), ['large', 'multipart']);

let ceiling: ChildServer | undefined;
let cc: LeanS3 | undefined;
let server: BenchServer | undefined;
let c: LeanS3 | undefined;
let sampler: NodeJS.Timeout | undefined;
try {
  if (only.has('small') || only.has('large')) {
    ceiling = await startCeilingServer();
    cc = new LeanS3({ host: ceiling.host, port: ceiling.port, accessKeyId: 'ceiling', secretAccessKey: 'ceiling', region: 'us-east-1' });
  }
  const srv = (server = await startBenchServer());
  const s3 = (c = new LeanS3({ host: srv.host, port: srv.port, accessKeyId: srv.accessKeyId, secretAccessKey: srv.secretAccessKey, region: 'us-east-1' }));
  let peakSampled = 0;
  sampler = setInterval(() => {
    peakSampled = Math.max(peakSampled, srv.rss().now);
  }, 50);
  const bucket = 'bench';
  await s3.ok('PUT', objectPath(bucket));
  const idle = srv.rss().now;
  // Each ceiling runs right before the scenario it bounds, with Tessera idle.
  await phase('ceiling small', ceiling, () => smallCeiling(cc!, smallCount, ceiling!), ['small']);
  await phase('small', srv, () => smallObjects(s3, bucket, smallCount, srv));
  await phase('list', srv, () => listing(s3, bucket, smallCount, reps));
  await phase('ceiling loopback', ceiling, () => loopbackCeiling(cc!, 256 * MiB, reps), ['large']);
  await phase('large', srv, () => largeObject(s3, bucket, 256 * MiB, reps));
  await phase('multipart', srv, () => multipart(s3, bucket, reps));
  await phase('copy', srv, () => uploadPartCopy(s3, bucket, reps));
  await phase('encrypted-small', srv, () => encryptedSmall(s3, bucket, sseSmallCount, srv));
  await phase('encrypted-large', srv, () => encryptedLarge(s3, bucket, 256 * MiB, reps));
  await phase('encrypted-copy', srv, () => encryptedCopy(s3, bucket, reps));
  const rss = srv.rss();
  const peak = Math.max(rss.peak, peakSampled);
  rows.push({
    scenario: 'server RSS (peak)', measured: `${(peak / MiB).toFixed(0)} MiB`, target: '<= 200 MiB', ok: peak <= 200 * MiB,
    detail: `idle ${(idle / MiB).toFixed(0)} MiB, at end ${(rss.now / MiB).toFixed(0)} MiB`,
  });
} finally {
  clearInterval(sampler);
  c?.close();
  cc?.close();
  await server?.stop();
  await ceiling?.stop();
}

printTable(rows, loadAtStart, loadavg()[0]);
process.exitCode = rows.some((r) => r.ok === false) ? 1 : 0;

/** "0.31 of ceiling": a row's figure over the ceiling it is measured against, when that ceiling ran. */
function ofCeiling(r: Row, ceilings: Map<CeilingKind, number>): string {
  const top = r.against && ceilings.get(r.against);
  if (!top || r.value === undefined) return '';
  const name = r.against === 'MD5' ? 'MD5' : r.against === 'loopback GET' ? 'loopback' : 'ceiling';
  return `${(r.value / top).toFixed(2)} of ${name}`;
}

function printTable(rs: Row[], loadStart: number, loadEnd: number): void {
  const ceilings = new Map<CeilingKind, number>();
  for (const r of rs) if (r.ceiling && r.value !== undefined) ceilings.set(r.ceiling, r.value);
  const head = ['scenario', 'measured', 'target', '', 'vs ceiling', 'detail'];
  const cells = rs.map((r) => [r.scenario, r.measured, r.target, r.ok === undefined ? '' : r.ok ? 'ok' : 'MISS', ofCeiling(r, ceilings), r.detail ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 1 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`\nTessera benchmark (node ${process.version}, ${cpus().length} cores, load ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end)\n`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) console.log(line(row));
}
