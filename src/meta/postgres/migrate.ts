import type { Pool } from 'pg';
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
export async function migrate(pool: Pool): Promise<number> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)');
    const row = (await client.query('SELECT version FROM schema_version')).rows[0] as { version: number } | undefined;
    let at = row?.version ?? 0;
    if (!row) await client.query('INSERT INTO schema_version VALUES (0)');
    if (at > MIGRATIONS.length) {
      throw new Error(`the metadata database has schema version ${at}; this Tessera knows versions up to ${MIGRATIONS.length}`);
    }
    for (; at < MIGRATIONS.length; at++) await client.query(MIGRATIONS[at]);
    await client.query('UPDATE schema_version SET version = $1', [at]);
    await client.query('COMMIT');
    return at;
  } catch (e) {
    await client.query('ROLLBACK').catch((err: Error) => {
      broken = err;
    });
    throw e;
  } finally {
    client.release(broken);
  }
}
