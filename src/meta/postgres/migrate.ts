import type { Pool } from 'pg';
import { transaction } from './pool.js';
import { MIGRATIONS } from './schema.js';

/** The advisory lock key that serializes schema migrations ("tessera" in ASCII). */
const MIGRATION_LOCK = 0x74657373657261;

/**
 * Brings the database schema up to date. Everything runs in one transaction
 * under a transaction-scoped advisory lock: several gateways starting at once
 * against a new database apply each migration exactly once (the others wait,
 * then find the work done), and a migration that fails leaves the schema as it
 * was. A database migrated by a newer Tessera is refused rather than guessed at.
 */
export function migrate(pool: Pool): Promise<number> {
  return transaction(pool, async (q) => {
    await q('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await q('CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)');
    const row = (await q('SELECT version FROM schema_version'))[0] as { version: number } | undefined;
    let at = row?.version ?? 0;
    if (!row) await q('INSERT INTO schema_version VALUES (0)');
    if (at > MIGRATIONS.length) {
      throw new Error(`the metadata database has schema version ${at}; this Tessera knows versions up to ${MIGRATIONS.length}`);
    }
    for (; at < MIGRATIONS.length; at++) await q(MIGRATIONS[at]);
    await q('UPDATE schema_version SET version = $1', [at]);
    return at;
  });
}
