import type { MigrationInterface } from 'typeorm';
import { CreateTelemetry1764000100000 } from './1764000100000-create-telemetry.js';
import { ConsumedByStreamEpoch1764000200000 } from './1764000200000-consumed-by-stream-epoch.js';
import { Points5m1764700000000 } from './1764700000000-points-5m.js';

/** The schema telemetry owns; no other service reads it. */
export const TELEMETRY_SCHEMA = 'telemetry';

/** Every migration of {@link TELEMETRY_SCHEMA}, oldest first. */
export const telemetryMigrations: (new () => MigrationInterface)[] = [
  CreateTelemetry1764000100000,
  ConsumedByStreamEpoch1764000200000,
  Points5m1764700000000,
];
