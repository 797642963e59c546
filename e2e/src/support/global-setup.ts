import pg from 'pg';

/**
 * Runs once before the integration and end-to-end suites: checks that the real servers are
 * reachable and creates the test database. Schemas are migrated by each service's own
 * migrations (see scripts/migrate.ts), which the suites' setup runs.
 */
export default async function globalSetup(): Promise<void> {
  const url = new URL(
    process.env['MIGRATION_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/conduit_test',
  );
  const database = url.pathname.slice(1);
  const admin = new pg.Client({
    connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString(),
  });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${url.host} (${(error as Error).message}); run 'npm run up' or start it`,
      { cause: error },
    );
  }
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
}
