/**
 * The BlobStore contract: every implementation runs this suite (today the
 * file system; an upstream-S3 store would be pushed onto BLOB_STORES).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../../src/blob/fs.js';
import type { BlobStore } from '../../src/blob/types.js';

export const BLOB_STORES: Array<{ name: string; open(): { store: BlobStore; cleanup(): void } }> = [
  {
    name: 'fs',
    open() {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-blobs-'));
      return { store: new FsBlobStore(dir), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];

async function readAll(store: BlobStore, id: string, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of store.read(id, start, end)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function ids(store: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const b of store.list()) out.push(b.id);
  return out;
}

for (const factory of BLOB_STORES) {
  describe(`BlobStore contract: ${factory.name}`, () => {
    let store: BlobStore;
    let cleanup: () => void;
    before(() => ({ store, cleanup } = factory.open()));
    after(async () => {
      await store.close();
      cleanup();
    });

    it('a committed blob reads back whole and by range, across write granules', async () => {
      const data = Buffer.alloc(3 * 1024 * 1024 + 17);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
      const w = await store.create();
      for (let off = 0; off < data.length; off += 100_000) await w.write(data.subarray(off, off + 100_000));
      assert.equal(await w.commit(), data.length);
      assert.ok((await readAll(store, w.id, 0, data.length)).equals(data));
      assert.ok((await readAll(store, w.id, 1_048_570, 2_097_160)).equals(data.subarray(1_048_570, 2_097_160)));
      assert.ok((await readAll(store, w.id, data.length - 1, data.length)).equals(data.subarray(data.length - 1)));
      assert.ok((await ids(store)).includes(w.id));
    });

    it('every blob gets a fresh id', async () => {
      const a = await store.create();
      const b = await store.create();
      assert.notEqual(a.id, b.id);
      await a.abort();
      await b.abort();
    });

    it('abort discards a blob being written', async () => {
      const w = await store.create();
      await w.write(Buffer.from('partial'));
      await w.abort();
      assert.ok(!(await ids(store)).includes(w.id));
    });

    it('remove deletes a blob and is idempotent', async () => {
      const w = await store.create();
      await w.write(Buffer.from('bye'));
      await w.commit();
      await store.remove(w.id);
      await store.remove(w.id);
      assert.ok(!(await ids(store)).includes(w.id));
    });

    it('list reports a modification time for each blob', async () => {
      const w = await store.create();
      await w.write(Buffer.from('t'));
      await w.commit();
      const listed: Array<{ id: string; mtimeMs: number }> = [];
      for await (const b of store.list()) listed.push(b);
      const mine = listed.find((b) => b.id === w.id);
      assert.ok(mine && Math.abs(mine.mtimeMs - Date.now()) < 60_000);
    });

    it('an empty blob commits with size 0', async () => {
      const w = await store.create();
      assert.equal(await w.commit(), 0);
      assert.equal((await readAll(store, w.id, 0, 0)).length, 0);
    });
  });
}
