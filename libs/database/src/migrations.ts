import { createHash } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { MigrationList } from './data-source.js';

/** What {@link runMigrations} needs: a direct Postgres URL (not PgBouncer) and the schema's migrations. */
export interface MigrationOptions {
  /** Direct Postgres URL (port 5432): migrations use a session advisory lock, which PgBouncer's transaction mode cannot hold. */
  readonly url: string;
  readonly schema: string;
  readonly migrations: MigrationList;
  /** Create the database if it does not exist (development and test). */
  readonly createDatabase?: boolean;
}

export interface MigrationResult {
  readonly schema: string;
  readonly applied: readonly string[];
}

function lockKey(schema: string): bigint {
  return createHash('sha256').update(`conduit:migrate:${schema}`).digest().readBigInt64BE(0);
}

/** Creates the database named in `url` when missing (connects to the `postgres` database to do it). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new pg.Client({
    connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString(),
  });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await admin
        .query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`)
        .catch((error: { code?: string }) => {
          if (error.code !== '42P04') throw error; // created concurrently by another process
        });
    }
  } finally {
    await admin.end();
  }
}

/**
 * Applies pending migrations of one service's schema, each in its own transaction, with the
 * history table inside that schema (`<schema>.migrations`). Replicas starting together are
 * serialised by a session advisory lock keyed on the schema, so exactly one applies them.
 */
export async function runMigrations(options: MigrationOptions): Promise<MigrationResult> {
  if (options.createDatabase) await ensureDatabase(options.url);
  const lock = new pg.Client({
    connectionString: options.url,
    application_name: `migrate:${options.schema}`,
  });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [lockKey(options.schema).toString()]);
    await lock.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    const dataSource = new DataSource({
      type: 'postgres',
      url: options.url,
      schema: options.schema,
      migrations: [...options.migrations] as never,
      migrationsTableName: 'migrations',
      migrationsTransactionMode: 'each',
      installExtensions: false,
      applicationName: `migrate:${options.schema}`,
      logging: ['error'],
    });
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return { schema: options.schema, applied: applied.map((m) => m.name) };
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await lock
      .query('SELECT pg_advisory_unlock($1)', [lockKey(options.schema).toString()])
      .catch(() => undefined);
    await lock.end();
  }
}
