export { createDataSource, pingDatabase, poolStats, rawPool } from './data-source.js';
export type { DatabaseOptions, MigrationList, PgPoolLike } from './data-source.js';
export { ensureDatabase, runMigrations } from './migrations.js';
export type { MigrationOptions, MigrationResult } from './migrations.js';
export type { TenantScope } from './tenant-scope.js';
export { isDatabaseUnavailable } from './connection-errors.js';
export { rowsOf } from './rows-of.js';
export { StoredStatement } from './stored-statement.js';
export type { StoredStatementDefinition } from './stored-statement.js';
