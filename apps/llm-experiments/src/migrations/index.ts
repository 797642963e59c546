import type { MigrationInterface } from 'typeorm';
import { ProvidersExperimentsRuns1764600000000 } from './1764600000000-providers-experiments-runs.js';
import { Outbox1764800000000 } from './1764800000000-outbox.js';

/** The schema llm-experiments owns; no other service reads it. */
export const EXPERIMENTS_SCHEMA = 'experiments';

/** Every migration of {@link EXPERIMENTS_SCHEMA}, oldest first (the schema itself is created by the runner). */
export const llmExperimentsMigrations: (new () => MigrationInterface)[] = [
  ProvidersExperimentsRuns1764600000000,
  Outbox1764800000000,
];
