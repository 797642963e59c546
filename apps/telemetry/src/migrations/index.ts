import type { MigrationInterface } from 'typeorm';

/** The schema telemetry owns; no other service reads it. */
export const TELEMETRY_SCHEMA = 'telemetry';

/** Every migration of {@link TELEMETRY_SCHEMA}, oldest first (the schema itself is created by the runner). */
export const telemetryMigrations: (new () => MigrationInterface)[] = [];
