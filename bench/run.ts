/**
 * `npm run bench`: Tessera's speed, measured on this machine with the server
 * in a child process and a lean signed client (bench/client.ts). Prints a
 * table of measured figures against the targets; never part of `npm test`.
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
import { MiB, largeObject, listing, multipart, smallObjects, uploadPartCopy, type Row } from './scenarios.js';
import { startBenchServer } from './server.js';
import { encryptedCopy, encryptedLarge, encryptedSmall } from './encrypted.js';

const only = new Set((process.env.BENCH_ONLY ?? 'small,large,multipart,copy,list,encrypted').split(',').map((s) => s.trim()));
if (only.has('encrypted')) for (const name of ['encrypted-small', 'encrypted-large', 'encrypted-copy']) only.add(name);
const sseSmallCount = Number(process.env.BENCH_SSE_SMALL_COUNT ?? 5_000);
const smallCount = Number(process.env.BENCH_SMALL_COUNT ?? 20_000);
const reps = Number(process.env.BENCH_REPS ?? 3);

const server = await startBenchServer();
const c = new LeanS3({ host: server.host, port: server.port, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, region: 'us-east-1' });
const rows: Row[] = [];
let peakSampled = 0;
const sampler = setInterval(() => {
  peakSampled = Math.max(peakSampled, server.rss().now);
}, 50);

async function phase(name: string, fn: () => Promise<Row[]>): Promise<void> {
  if (!only.has(name)) return;
  const cpu0 = server.cpuSeconds();
  const t0 = Date.now();
  process.stderr.write(`bench: ${name} ...`);
  const got = await fn();
  const cpu = server.cpuSeconds() - cpu0;
  const wall = (Date.now() - t0) / 1000;
  process.stderr.write(` ${wall.toFixed(1)} s, server CPU ${cpu.toFixed(1)} s (${((cpu / wall) * 100).toFixed(0)}% of one core)\n`);
  rows.push(...got);
}

try {
  const bucket = 'bench';
  await c.ok('PUT', objectPath(bucket));
  const idle = server.rss().now;
  await phase('small', () => smallObjects(c, bucket, smallCount, server));
  await phase('list', () => listing(c, bucket, smallCount, reps));
  await phase('large', () => largeObject(c, bucket, 256 * MiB, reps));
  await phase('multipart', () => multipart(c, bucket, reps));
  await phase('copy', () => uploadPartCopy(c, bucket, reps));
  await phase('encrypted-small', () => encryptedSmall(c, bucket, sseSmallCount, server));
  await phase('encrypted-large', () => encryptedLarge(c, bucket, 256 * MiB, reps));
  await phase('encrypted-copy', () => encryptedCopy(c, bucket, reps));
  const rss = server.rss();
  const peak = Math.max(rss.peak, peakSampled);
  rows.push({
    scenario: 'server RSS (peak)', measured: `${(peak / MiB).toFixed(0)} MiB`, target: '<= 200 MiB', ok: peak <= 200 * MiB,
    detail: `idle ${(idle / MiB).toFixed(0)} MiB, at end ${(rss.now / MiB).toFixed(0)} MiB`,
  });
} finally {
  clearInterval(sampler);
  c.close();
  await server.stop();
}

printTable(rows);
process.exitCode = rows.some((r) => r.ok === false) ? 1 : 0;

function printTable(rs: Row[]): void {
  const head = ['scenario', 'measured', 'target', '', 'detail'];
  const cells = rs.map((r) => [r.scenario, r.measured, r.target, r.ok === undefined ? '' : r.ok ? 'ok' : 'MISS', r.detail ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 1 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`\nTessera benchmark (node ${process.version}, ${cpus().length} cores, load ${loadavg()[0].toFixed(2)} at end)\n`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) console.log(line(row));
}
