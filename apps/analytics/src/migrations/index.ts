import type { MigrationInterface } from 'typeorm';
import { CreateAnalytics1764300000000 } from './1764300000000-create-analytics.js';

/** The schema analytics owns; no other service reads it. */
export const ANALYTICS_SCHEMA = 'analytics';

/** Every migration of {@link ANALYTICS_SCHEMA}, oldest first (the schema itself is created by the runner). */
export const analyticsMigrations: (new () => MigrationInterface)[] = [CreateAnalytics1764300000000];
