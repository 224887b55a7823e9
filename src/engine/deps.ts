import type { BlobStore } from '../blob/types.js';
import type { Config } from '../config.js';
import type { ServerKeys } from '../crypto/keys.js';
import type { MetaStore } from '../meta/types.js';
import type { HashPool } from '../util/hash-pool.js';

/**
 * What the engine works with: the two stores, the server's keys, the
 * hashing threads and the settings. Handed down from startServer (api/'s
 * Deps is a superset), never reached through a module singleton.
 */
export interface EngineDeps {
  meta: MetaStore;
  blobs: BlobStore;
  config: Config;
  /** SSE-S3 master key and SSE-KMS keyring (src/crypto/keys.ts). */
  sseKeys: ServerKeys;
  /** Worker threads that hash large bodies and copied ranges off the event loop (src/util/hash-pool.ts). */
  hashPool: HashPool;
}

/**
 * The keys a read of encrypted extents may need beyond the server's own: the
 * request's SSE-C customer key, the SSE-KMS encryption context.
 */
export interface SseReadKeys {
  customer?: Buffer;
  context?: string;
}
