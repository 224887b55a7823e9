import Database from 'better-sqlite3';
import type { Database as DB } from 'better-sqlite3';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * One server per data directory in SQLite mode. The metadata store keeps
 * counters in the process (the version sequence), so a second server on the
 * same `meta.sqlite` would hand out the same numbers: its writes fail on the
 * unique index and listings lose their order. A server therefore holds this
 * lock from before it opens the store until it closes; `tessera admin`,
 * which only edits accounts, does not take it and runs beside a server.
 *
 * The mechanism: `serve.lock` is a small SQLite database of its own, opened
 * with `locking_mode = EXCLUSIVE` and written once in an exclusive
 * transaction. SQLite then keeps its fcntl write lock on the file until the
 * connection closes, and the kernel drops that lock when the process ends
 * however it ends (SIGKILL included), so no stale lock outlives a server.
 * SQLite tracks locks per inode within a process too, so a second server in
 * the same process is refused as well (fcntl alone would let it through).
 * With no busy timeout the second opener fails at once with SQLITE_BUSY.
 *
 * Only SQLite may open `serve.lock` in the holding process: closing any
 * other descriptor on the file (fs.readFileSync, a copy of the data
 * directory) drops every fcntl lock the process holds on it.
 *
 * The holder writes `serve.pid` beside it (pid, host, start time, one a
 * line) for the refusal message only; the lock is what counts, so a pid file
 * left by a killed server means nothing.
 */
export interface DataDirLock {
  /** Drops the lock (and the pid file); a no-op the second time. */
  release(): void;
}

const LOCK_FILE = 'serve.lock';
const PID_FILE = 'serve.pid';

/** Takes the data directory's lock, or throws naming the server that holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  const db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
  const started = new Date().toISOString();
  try {
    hold(db, started);
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new Error(inUse(dataDir));
    throw e;
  }
  const pidFile = join(dataDir, PID_FILE);
  const tmp = `${pidFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${process.pid}\n${hostname()}\n${started}\n`);
  renameSync(tmp, pidFile);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      // The pid file goes first, while the lock still keeps the next holder from writing its own.
      rmSync(pidFile, { force: true });
      db.close();
    },
  };
}

function hold(db: DB, started: string): void {
  db.pragma('locking_mode = EXCLUSIVE');
  db.exec('BEGIN EXCLUSIVE');
  db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, host TEXT NOT NULL, started TEXT NOT NULL)');
  db.exec('DELETE FROM holder');
  db.prepare('INSERT INTO holder VALUES (?, ?, ?)').run(process.pid, hostname(), started);
  db.exec('COMMIT');
}

/** The refusal, naming the holder from its pid file when that can be read. */
function inUse(dataDir: string): string {
  let holder = 'pid unknown';
  try {
    const [pid, host, started] = readFileSync(join(dataDir, PID_FILE), 'utf8').split('\n');
    if (/^\d+$/.test(pid)) holder = `pid ${pid}${host && host !== hostname() ? ` on ${host}` : ''}${started ? `, started ${started}` : ''}`;
  } catch {
    // No pid file yet (the holder is starting) or none readable: the message goes without it.
  }
  return `data directory ${dataDir} is in use by another Tessera server (${holder}); stop it or choose another --data-dir`;
}
