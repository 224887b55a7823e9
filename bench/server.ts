/**
 * The server under test, in a child process (`node --import tsx src/main.ts
 * serve`, which is what `npm start` runs) with a temporary data directory,
 * so that the resident memory and CPU time read from /proc are the server's
 * alone. `BENCH_CPU_PROF=dir` adds `--cpu-prof` for a profile per run.
 *
 * The ceiling server (bench/null-server.ts, a do-nothing node:http server)
 * runs the same way, so that Tessera's figures can be read as fractions of
 * what the same client gets from node:http alone on this machine, in the
 * same run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** A server in a child process that printed `listening on <url>`. */
export interface ChildServer {
  host: string;
  port: number;
  pid: number;
  /** Resident set size now, and its peak so far (VmHWM), in bytes. */
  rss(): { now: number; peak: number };
  /** User + system CPU seconds the server has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface BenchServer extends ChildServer {
  accessKeyId: string;
  secretAccessKey: string;
  dataDir: string;
}

export async function startBenchServer(): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const accessKeyId = 'bench-access-key';
  const secretAccessKey = 'bench-secret-key';
  const prof = process.env.BENCH_CPU_PROF;
  const args = [
    ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
    '--import', 'tsx', 'src/main.ts', 'serve',
    '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn',
    '--root-access-key', accessKeyId, '--root-secret-key', secretAccessKey,
  ];
  const child = await spawnServer(args, () => rmSync(dataDir, { recursive: true, force: true }));
  return { ...child, accessKeyId, secretAccessKey, dataDir };
}

/** The do-nothing node:http server (bench/null-server.ts): the ceiling for the same client. */
export function startCeilingServer(): Promise<ChildServer> {
  return spawnServer(['--import', 'tsx', 'bench/null-server.ts']);
}

async function spawnServer(args: string[], cleanup: () => void = () => {}): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<URL>((ok, fail) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) ok(new URL(m[1]));
    });
    child.once('exit', (code) => fail(new Error(`server exited (${code}) before listening:\n${out}`)));
    setTimeout(() => fail(new Error(`server did not start in 30 s:\n${out}`)), 30_000).unref();
  });
  child.stdout!.resume();
  const pid = child.pid!;
  const status = () => readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (text: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
  return {
    host: url.hostname, port: Number(url.port), pid,
    rss() {
      const s = status();
      return { now: kb(s, 'VmRSS'), peak: kb(s, 'VmHWM') };
    },
    cpuSeconds() {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      cleanup();
    },
  };
}
