/**
 * The rule of the layers, read off the imports of every file under src/:
 *
 *   main.ts, server.ts, index.ts, stores.ts, admin/   (entry points: wire everything)
 *   http/, auth/                                      (the wire: route, sign, respond)
 *   api/, jobs/                                       (S3 rules; background jobs)
 *   engine/                                           (what an object is on storage)
 *   meta/, blob/, crypto/, util/                      (storage primitives, pure helpers)
 *   errors.ts, config.ts                              (the error table, settings: used anywhere)
 *
 * A file may import from its own layer's folder and from any layer below,
 * never from one above; folders of one layer do not import each other
 * (but http/ may use auth/, and the entry points each other), and no two top-level
 * folders import each other in a cycle. A new top-level file or folder must
 * be given a layer here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const SRC = join(import.meta.dirname, '..', '..', 'src');

/** Rank of each top-level unit of src/ (a folder, or a file at the top). Higher may import lower. */
const RANK: Record<string, number> = {
  'errors.ts': 0, 'config.ts': 0,
  meta: 1, blob: 1, crypto: 1, util: 1,
  engine: 2,
  api: 3, jobs: 3,
  http: 4, auth: 4,
  'main.ts': 5, 'server.ts': 5, 'index.ts': 5, 'stores.ts': 5, admin: 5,
};
/** Imports allowed between units of one rank: [from, to]. */
const SAME_RANK_ALLOWED = new Set(['http>auth']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function unitOf(path: string): string {
  return relative(SRC, path).split('/')[0];
}

/** Every relative import (static, type-only, dynamic, re-export) of a file, as a path under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[^\w.])(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    out.push(normalize(join(dirname(file), m[1])).replace(/\.js$/, '.ts'));
  }
  return out;
}

const edges = files(SRC).flatMap((file) => importsOf(file).map((to) => ({ file, to, from: unitOf(file), unit: unitOf(to) })));

describe('the layers of src/', () => {
  it('every top-level file and folder of src/ has a layer', () => {
    const unknown = readdirSync(SRC).filter((name) => !(name in RANK));
    assert.deepEqual(unknown, [], 'give each a rank in test/unit/layers.test.ts');
  });

  it('imports flow only downwards (and across one layer only where allowed)', () => {
    const wrong = edges.filter(({ from, unit }) => {
      if (from === unit) return false;
      const a = RANK[from];
      const b = RANK[unit];
      // The entry points (rank 5) wire everything, each other included.
      return b > a || (b === a && a < 5 && !SAME_RANK_ALLOWED.has(`${from}>${unit}`));
    }).map(({ file, to }) => `${relative(SRC, file)} -> ${relative(SRC, to)}`);
    assert.deepEqual(wrong, []);
  });

  it('no cycle between top-level folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const { from, unit } of edges) if (from !== unit) (graph.get(from) ?? graph.set(from, new Set()).get(from)!).add(unit);
    const reach = (start: string) => {
      const seen = new Set<string>();
      const stack = [...(graph.get(start) ?? [])];
      while (stack.length) {
        const n = stack.pop()!;
        if (seen.has(n)) continue;
        seen.add(n);
        stack.push(...(graph.get(n) ?? []));
      }
      return seen;
    };
    const cycles = [...graph.keys()].filter((u) => reach(u).has(u));
    assert.deepEqual(cycles, []);
  });
});
