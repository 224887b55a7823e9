import { spawn, type ChildProcess } from 'node:child_process';
import type { TestMeta } from './helpers.js';

const ROOT = new URL('..', import.meta.url).pathname;

/**
 * `tessera serve` as a child process on a free port over `dataDir` (and, in
 * PostgreSQL mode, the database of `meta`), for tests that kill it with
 * SIGKILL; resolves with its URL once it prints its endpoint.
 */
export async function spawnServer(
  dataDir: string, meta: TestMeta, opts: { args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<{ child: ChildProcess; url: string }> {
  const args = ['--import', 'tsx', 'src/main.ts', 'serve', '--port', '0', '--data-dir', dataDir, ...(opts.args ?? []), ...meta.args];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited ${code}: ${out}`));
    });
  });
  return { child, url };
}

/** SIGKILL, and wait until the process is gone. */
export async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGKILL');
  await exited;
}
