import { envInt, loadConfig, type ServiceConfigDefinition } from '@conduit/config';
import { z } from 'zod';

const schema = {
  /** Days of raw points kept (daily partitions past it are dropped). */
  TELEMETRY_RETENTION_DAYS: envInt(1, 3650),
  TELEMETRY_PARTITION_DAYS_AHEAD: envInt(1, 30),
  /** Messages (≈ 1 000 points each) per write transaction. */
  TELEMETRY_WRITER_BATCH_MESSAGES: envInt(1, 1000),
  /** Longest a message waits for its batch, in milliseconds. */
  TELEMETRY_WRITER_BATCH_WAIT_MS: envInt(1, 10_000),
  TELEMETRY_WRITER_CONCURRENCY: envInt(1, 16),
  /** `message` (default): redelivered messages are no-ops. `point`: also drop points already stored. */
  TELEMETRY_DEDUPE: z.enum(['message', 'point']),
  TELEMETRY_MAX_RAW_WINDOW_HOURS: envInt(1, 24 * 31),
  TELEMETRY_ROLLUP_AFTER_HOURS: envInt(1, 24 * 31),
  /** Bucketed ranges longer than this (5m intervals and up) read the 5-minute rollups. */
  TELEMETRY_RAW_BUCKETS_MAX_HOURS: envInt(1, 24 * 31),
  TELEMETRY_MAX_BUCKETS: envInt(10, 100_000),
};

const defaults = {
  HTTP_PORT: '3002',
  TELEMETRY_RETENTION_DAYS: '30',
  TELEMETRY_PARTITION_DAYS_AHEAD: '3',
  TELEMETRY_WRITER_BATCH_MESSAGES: '10',
  TELEMETRY_WRITER_BATCH_WAIT_MS: '50',
  TELEMETRY_WRITER_CONCURRENCY: '2',
  TELEMETRY_DEDUPE: 'message',
  TELEMETRY_MAX_RAW_WINDOW_HOURS: '168',
  TELEMETRY_ROLLUP_AFTER_HOURS: '48',
  TELEMETRY_RAW_BUCKETS_MAX_HOURS: '6',
  TELEMETRY_MAX_BUCKETS: '10000',
};

export const telemetryConfigDefinition = {
  serviceName: 'telemetry',
  schema,
  presets: { production: defaults, development: defaults, test: defaults },
  map: (env) => ({
    partitions: {
      retentionDays: env.TELEMETRY_RETENTION_DAYS,
      daysAhead: env.TELEMETRY_PARTITION_DAYS_AHEAD,
    },
    writer: {
      batchMessages: env.TELEMETRY_WRITER_BATCH_MESSAGES,
      batchWaitMs: env.TELEMETRY_WRITER_BATCH_WAIT_MS,
      concurrency: env.TELEMETRY_WRITER_CONCURRENCY,
      dedupe: env.TELEMETRY_DEDUPE,
    },
    queries: {
      maxRawWindowHours: env.TELEMETRY_MAX_RAW_WINDOW_HOURS,
      rollupAfterHours: env.TELEMETRY_ROLLUP_AFTER_HOURS,
      rawBucketsMaxHours: env.TELEMETRY_RAW_BUCKETS_MAX_HOURS,
      maxBuckets: env.TELEMETRY_MAX_BUCKETS,
    },
  }),
} satisfies ServiceConfigDefinition<typeof schema, unknown>;

export type TelemetryConfig = ReturnType<typeof loadTelemetryConfig>;

/** Validates the environment once at boot; throws ConfigError naming every bad variable. */
export const loadTelemetryConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(telemetryConfigDefinition, env);
