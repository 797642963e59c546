// Applies every service's migrations directly against Postgres (not PgBouncer), for
// `npm run migrate`, `npm run up` and the test setup. Each service also migrates its own
// schema at start-up when MIGRATE_ON_START is true.
import { loadConfig } from '@conduit/config';
import { runMigrations } from '@conduit/database';
import { DEVICE_SCHEMA, deviceControlMigrations } from '../apps/device-control/src/migrations/index.js';
import { GATEWAY_SCHEMA, gatewayMigrations } from '../apps/gateway/src/migrations/index.js';
import { ANALYTICS_SCHEMA, analyticsMigrations } from '../apps/analytics/src/migrations/index.js';
import {
  EXPERIMENTS_SCHEMA,
  llmExperimentsMigrations,
} from '../apps/llm-experiments/src/migrations/index.js';
import { TELEMETRY_SCHEMA, telemetryMigrations } from '../apps/telemetry/src/migrations/index.js';

/** Every service schema and its migrations. */
export const ALL_MIGRATIONS = [
  { schema: GATEWAY_SCHEMA, migrations: gatewayMigrations },
  { schema: DEVICE_SCHEMA, migrations: deviceControlMigrations },
  { schema: TELEMETRY_SCHEMA, migrations: telemetryMigrations },
  { schema: ANALYTICS_SCHEMA, migrations: analyticsMigrations },
  { schema: EXPERIMENTS_SCHEMA, migrations: llmExperimentsMigrations },
];

/** Migrates every schema of the database named by the preset's MIGRATION_DATABASE_URL. */
export async function migrateAll(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(
    {
      serviceName: 'migrate',
      schema: {},
      presets: { production: {}, development: {}, test: {} },
      map: () => ({}),
    },
    { HTTP_PORT: '1', ...env },
  );
  const createDatabase = config.preset !== 'production';
  for (const { schema, migrations } of ALL_MIGRATIONS) {
    const result = await runMigrations({
      url: config.database.migrationUrl,
      schema,
      migrations,
      createDatabase,
    });
    console.log(`migrate ${schema}: ${result.applied.length ? result.applied.join(', ') : 'up to date'}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  migrateAll().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
