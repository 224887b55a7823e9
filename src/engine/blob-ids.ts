import { randomBytes } from 'node:crypto';
import { BlobGone, type MetaStore } from '../meta/types.js';

/**
 * Blob ids. An inline blob lives in its metadata row (small bodies: one
 * commit, no file) and its id starts with `i`; a file blob's id starts with
 * `f` and is made by the blob store. Both are random hex: no object key ever
 * becomes part of a blob's name.
 */
export function isInline(blobId: string): boolean {
  return blobId.startsWith('i');
}

export function newInlineId(): string {
  return 'i' + randomBytes(15).toString('hex');
}

/**
 * The bytes of an inline blob. Its row is gone only once no manifest holds
 * it and the collector took it: BlobGone, as for a file blob that went.
 */
export async function inlineBytes(meta: MetaStore, id: string): Promise<Buffer> {
  const blob = await meta.getBlob(id);
  if (!blob?.inline) throw new BlobGone(id);
  return blob.inline;
}
