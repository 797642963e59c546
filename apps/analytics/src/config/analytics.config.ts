import { envBool, envInt, loadConfig, type ServiceConfigDefinition } from '@conduit/config';
import { SEVERITIES } from '@conduit/contracts';
import { z } from 'zod';

const envNumber = (min: number, max: number) => z.coerce.number().min(min).max(max);

const schema = {
  /** TELEMETRY messages (≈ 1 000 points each) per analytics transaction. */
  ANALYTICS_BATCH_MESSAGES: envInt(1, 1_000),
  /** Longest a message waits for its batch, in milliseconds. */
  ANALYTICS_BATCH_WAIT_MS: envInt(1, 10_000),
  /** EWMA weight of a new point (0.01 ≈ a memory of the last ~100 points). */
  ANALYTICS_EWMA_ALPHA: envNumber(0.0001, 0.5),
  /** Points a series needs before it is scored. */
  ANALYTICS_WARMUP_POINTS: envInt(2, 100_000),
  /** |z| at or above this is a spike. */
  ANALYTICS_Z_THRESHOLD: envNumber(1, 100),
  /** CUSUM slack and decision level, in σ (drift detection). */
  ANALYTICS_CUSUM_K: envNumber(0, 10),
  ANALYTICS_CUSUM_H: envNumber(1, 1_000),
  /** Whether anomalies also open alerts (one open per device and metric). */
  ANALYTICS_ANOMALY_ALERTS: envBool(),
  ANALYTICS_ANOMALY_SEVERITY: z.enum(SEVERITIES),
  /** Consecutive normal points that resolve an anomaly alert. */
  ANALYTICS_ANOMALY_RESOLVE_POINTS: envInt(1, 100_000),
  /** How often every replica reloads the alert rules (a change through this replica applies at once). */
  ANALYTICS_RULES_REFRESH_MS: envInt(100, 600_000),
  /**
   * Series states a replica keeps in memory (least recently used evicted): an evicted series is
   * read back from `analytics.series_state` in its next batch. ≈ 0.6 KiB each.
   */
  ANALYTICS_SERIES_CACHE_MAX: envInt(100, 100_000_000),
  /** How long device attributes (type, site, tags) for rule scopes are cached. */
  ANALYTICS_DEVICE_CACHE_MS: envInt(0, 3_600_000),
  /** How often `no_data` rules are checked. */
  ANALYTICS_NO_DATA_CHECK_MS: envInt(100, 600_000),
  /** Anomalies and ingest counters older than this are deleted (hourly). */
  ANALYTICS_RETENTION_DAYS: envInt(1, 3_650),
  /** Capacity estimates: measured end-to-end ingest points/s per core (docs/benchmarks.md). */
  ANALYTICS_INGEST_POINTS_PER_CORE_S: envInt(1, 10_000_000),
  /** Capacity estimates: stored bytes per point, row plus index (default measured on telemetry.points). */
  ANALYTICS_BYTES_PER_SAMPLE: envInt(8, 100_000),
};

const defaults = {
  HTTP_PORT: '3003',
  ANALYTICS_BATCH_MESSAGES: '50',
  ANALYTICS_BATCH_WAIT_MS: '50',
  ANALYTICS_EWMA_ALPHA: '0.01',
  ANALYTICS_WARMUP_POINTS: '30',
  ANALYTICS_Z_THRESHOLD: '5',
  ANALYTICS_CUSUM_K: '0.5',
  ANALYTICS_CUSUM_H: '12',
  ANALYTICS_ANOMALY_ALERTS: 'true',
  ANALYTICS_ANOMALY_SEVERITY: 'warning',
  ANALYTICS_ANOMALY_RESOLVE_POINTS: '10',
  ANALYTICS_RULES_REFRESH_MS: '2000',
  ANALYTICS_SERIES_CACHE_MAX: '200000',
  ANALYTICS_DEVICE_CACHE_MS: '10000',
  ANALYTICS_NO_DATA_CHECK_MS: '5000',
  ANALYTICS_RETENTION_DAYS: '30',
  // docs/benchmarks.md, ingest: 81 000–91 000 points/s end to end on this 2-core machine.
  ANALYTICS_INGEST_POINTS_PER_CORE_S: '42500',
  ANALYTICS_BYTES_PER_SAMPLE: '120',
};

export const analyticsConfigDefinition = {
  serviceName: 'analytics',
  schema,
  presets: {
    production: defaults,
    development: defaults,
    test: { ...defaults, ANALYTICS_RULES_REFRESH_MS: '500', ANALYTICS_NO_DATA_CHECK_MS: '1000' },
  },
  map: (env) => ({
    consumer: { batchMessages: env.ANALYTICS_BATCH_MESSAGES, batchWaitMs: env.ANALYTICS_BATCH_WAIT_MS },
    detector: {
      alpha: env.ANALYTICS_EWMA_ALPHA,
      warmup: env.ANALYTICS_WARMUP_POINTS,
      zThreshold: env.ANALYTICS_Z_THRESHOLD,
      cusumK: env.ANALYTICS_CUSUM_K,
      cusumH: env.ANALYTICS_CUSUM_H,
    },
    anomalyAlerts: {
      enabled: env.ANALYTICS_ANOMALY_ALERTS,
      severity: env.ANALYTICS_ANOMALY_SEVERITY,
      resolveAfterPoints: env.ANALYTICS_ANOMALY_RESOLVE_POINTS,
    },
    rulesRefreshMs: env.ANALYTICS_RULES_REFRESH_MS,
    seriesCacheMax: env.ANALYTICS_SERIES_CACHE_MAX,
    deviceCacheMs: env.ANALYTICS_DEVICE_CACHE_MS,
    noDataCheckMs: env.ANALYTICS_NO_DATA_CHECK_MS,
    retentionDays: env.ANALYTICS_RETENTION_DAYS,
    capacity: {
      pointsPerCoreS: env.ANALYTICS_INGEST_POINTS_PER_CORE_S,
      bytesPerSample: env.ANALYTICS_BYTES_PER_SAMPLE,
    },
  }),
} satisfies ServiceConfigDefinition<typeof schema, unknown>;

export type AnalyticsConfig = ReturnType<typeof loadAnalyticsConfig>;
export type AnalyticsOptions = AnalyticsConfig['service'];

/** Validates the environment once at boot; throws ConfigError naming every bad variable. */
export const loadAnalyticsConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(analyticsConfigDefinition, env);
