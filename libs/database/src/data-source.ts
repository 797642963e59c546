import { DataSource, type MixedList, type EntitySchema, type MigrationInterface } from 'typeorm';

/** How a service reaches its own schema (through PgBouncer in transaction mode). */
export interface DatabaseOptions {
  /** `postgres://…` of PgBouncer (services) or Postgres itself (migrations, tools). */
  readonly url: string;
  /** The service's own schema; it reads no other. */
  readonly schema: string;
  /** Upper bound of the pg pool of this process. */
  readonly poolMax: number;
  /** Shown in `pg_stat_activity` / PgBouncer as `application_name`. */
  readonly applicationName: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly entities?: MixedList<Function | string | EntitySchema>;
}

/**
 * Creates (does not initialise) a TypeORM DataSource suited to PgBouncer's transaction mode:
 * no session state is relied on — entities are schema-qualified instead of `SET search_path`,
 * pg sends unnamed statements (no named prepared statements), extensions are installed by
 * migrations (which run against Postgres directly), and `synchronize` is off.
 */
export function createDataSource(options: DatabaseOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities ?? [],
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    applicationName: options.applicationName,
    extra: {
      max: options.poolMax,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 5_000,
      // A statement stuck behind a dead PgBouncer/Postgres must not hold a request forever.
      query_timeout: 30_000,
    },
  });
}

/** The raw `pg` pool behind a DataSource, for hot paths (COPY, unnest batches). */
export interface PgPoolLike {
  query<R = unknown>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** Returns the pg pool of an initialised DataSource. */
export function rawPool(dataSource: DataSource): PgPoolLike {
  const driver = dataSource.driver as unknown as { master?: PgPoolLike };
  if (!driver.master) throw new Error('DataSource is not initialised');
  return driver.master;
}

/** Readiness probe: one round trip through the pool (and PgBouncer). */
export async function pingDatabase(dataSource: DataSource): Promise<void> {
  await dataSource.query('SELECT 1');
}

/** Pool figures for `/performance/health`. */
export function poolStats(dataSource: DataSource): { total: number; idle: number; waiting: number } {
  const pool = rawPool(dataSource);
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type MigrationList = ReadonlyArray<new () => MigrationInterface> | ReadonlyArray<Function>;
