import type { MigrationInterface } from 'typeorm';

/** The schema analytics owns; no other service reads it. */
export const ANALYTICS_SCHEMA = 'analytics';

/** Every migration of {@link ANALYTICS_SCHEMA}, oldest first (the schema itself is created by the runner). */
export const analyticsMigrations: (new () => MigrationInterface)[] = [];
