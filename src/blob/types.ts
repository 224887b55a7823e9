import type { Readable } from 'node:stream';

/**
 * Immutable blobs, written once and never modified, named by random ids that
 * the metadata store hands out in manifests. Object keys never reach a blob
 * store: ids are generated here and are plain hex.
 */
export interface BlobWriter {
  readonly id: string;
  write(chunk: Buffer): Promise<void>;
  /** Makes the bytes durable (data and directory entry) and returns the size written. */
  commit(): Promise<number>;
  /** Discards a blob that will never be referenced (and releases it). */
  abort(): Promise<void>;
  /**
   * The blob's fate is decided (a committed manifest references it, or it was
   * discarded): the store stops keeping the reaper off it. Until then it does,
   * however long the write takes (see FsBlobStore).
   */
  release(): void;
  /**
   * For writers of plain files: registers `listener`, told after each write
   * completes how many bytes of the blob are in its file, and returns that
   * file's path, so a hashing thread can read the bytes back as they land.
   */
  follow?(listener: (written: number) => void): string;
}

export interface BlobStore {
  create(): Promise<BlobWriter>;
  /** Bytes [start, end) of a blob. */
  read(id: string, start: number, end: number): Readable;
  /** The local file holding a blob, for stores that keep blobs as files (a hashing thread then reads it itself). */
  filePath?(id: string): string;
  remove(id: string): Promise<void>;
  /** True while a writer of this store is writing the blob and has not been released: the reaper leaves it alone. */
  writing(id: string): boolean;
  /** Ids of all blobs on storage with their modification time (for the reaper). */
  list(): AsyncIterable<{ id: string; mtimeMs: number }>;
  close(): Promise<void>;
}
