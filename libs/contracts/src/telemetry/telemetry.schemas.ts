import { z } from 'zod';
import { SUBJECT_TOKEN } from '../core/contract.js';
import { deviceIdSchema } from '../device/device.schemas.js';

// WARNING: field names below are wire names (HTTP bodies, NATS payloads, stored messages).

const METRIC_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
/** The latest time a JavaScript Date can hold, in epoch ms. */
const MAX_EPOCH_MS = 8.64e15;

/** Metric names: short identifiers, no whitespace. */
export const metricSchema = z.string().regex(METRIC_NAME, 'a metric name: 1-64 of A-Z a-z 0-9 _ . : -');

/** A finite number (JSON has no NaN or Infinity, but a producer's encoder may still send strings). */
const value = z.number().refine(Number.isFinite, 'a finite number');

/** ISO-8601 with an offset, or epoch milliseconds. */
export const timestampSchema = z.union([
  z.iso.datetime({ offset: true }),
  z.number().int().min(0).max(MAX_EPOCH_MS),
]);

/** Most points one HTTP request may carry (TELEMETRY_MAX_POINTS_PER_REQUEST overrides). */
export const DEFAULT_MAX_POINTS_PER_REQUEST = 100_000;

/** `POST /api/v1/telemetry`: one device, several metrics at one time (server time when omitted). */
export const telemetryReadingSchema = z.strictObject({
  device_id: deviceIdSchema,
  timestamp: timestampSchema.optional(),
  data: z.record(metricSchema, value).refine((d) => Object.keys(d).length > 0, 'at least one metric'),
});
export type TelemetryReading = z.infer<typeof telemetryReadingSchema>;

/** One point in an HTTP batch. */
export const telemetryPointSchema = z.strictObject({
  device_id: deviceIdSchema,
  metric: metricSchema,
  ts: timestampSchema,
  value,
});
export type TelemetryPoint = z.infer<typeof telemetryPointSchema>;

/** `POST /api/v1/telemetry/batch`: `{ points: [...] }` or an array of readings. */
export const telemetryPointsBodySchema = z.strictObject({ points: z.array(telemetryPointSchema).min(1) });
export const telemetryReadingsBodySchema = z.array(telemetryReadingSchema).min(1);
export const telemetryBatchBodySchema = z.union([telemetryPointsBodySchema, telemetryReadingsBodySchema]);

/** `202` answer of both ingest routes: the points are durable in JetStream. */
export const ingestAcceptedSchema = z.object({ accepted: z.number().int(), batch_id: z.string() });
export type IngestAccepted = z.infer<typeof ingestAcceptedSchema>;

/**
 * The message on `telemetry.ingest.<orgId>.<deviceId>` (the public ingest contract: external
 * producers publish it too). Org and device come from the subject. `ts` is epoch milliseconds
 * or ISO-8601.
 */
export const telemetryIngestMessageSchema = z.object({
  version: z.literal(1),
  points: z
    .array(z.object({ metric: metricSchema, ts: timestampSchema, value }))
    .min(1)
    .max(10_000),
});
export type TelemetryIngestMessage = z.infer<typeof telemetryIngestMessageSchema>;

/**
 * True when `payload` is an ingest message in its common shape — epoch-millisecond timestamps, as
 * the gateway publishes them — that {@link telemetryIngestMessageSchema} accepts unchanged. A fast
 * path for the consumers of TELEMETRY (the schema copies each of up to 10 000 points); false
 * means only "not this shape": the schema decides (ISO timestamps, errors).
 */
export function isCommonTelemetryIngestMessage(payload: unknown): boolean {
  if (typeof payload !== 'object' || payload === null) return false;
  const { version, points } = payload as { version?: unknown; points?: unknown };
  if (version !== 1 || !Array.isArray(points) || points.length < 1 || points.length > 10_000) return false;
  for (const p of points as unknown[]) if (!isCommonPoint(p, false)) return false;
  return true;
}

/** A point `{ device_id, metric, ts, value }` with nothing else, an epoch-ms `ts` and valid fields. */
function isCommonPoint(p: unknown, withDevice: boolean): boolean {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return false;
  let keys = 0;
  for (const key in p) {
    if (!Object.hasOwn(p, key)) continue;
    keys++;
    if (key !== 'metric' && key !== 'ts' && key !== 'value' && !(withDevice && key === 'device_id'))
      return false;
  }
  const { device_id, metric, ts, value } = p as Record<string, unknown>;
  if (keys !== (withDevice ? 4 : 3)) return false;
  if (withDevice && (typeof device_id !== 'string' || !SUBJECT_TOKEN.test(device_id))) return false;
  if (typeof metric !== 'string' || !METRIC_NAME.test(metric)) return false;
  if (typeof ts !== 'number' || !Number.isInteger(ts) || ts < 0 || ts > MAX_EPOCH_MS) return false;
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * True when `body` is a `POST /api/v1/telemetry/batch` body of the `{ points: [...] }` form with
 * epoch-millisecond timestamps that {@link telemetryPointsBodySchema} accepts unchanged — the
 * gateway's fast path for its largest bodies (the schema copies every point). False means only
 * "not this shape": the schema decides and names the offending fields.
 */
export function isCommonTelemetryPointsBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const keys = Object.keys(body);
  const points = (body as { points?: unknown }).points;
  if (keys.length !== 1 || keys[0] !== 'points' || !Array.isArray(points) || points.length < 1) return false;
  for (const p of points as unknown[]) if (!isCommonPoint(p, true)) return false;
  return true;
}

export const INTERVALS = ['1m', '5m', '15m', '1h', '1d'] as const;
export const AGGREGATES = ['avg', 'min', 'max', 'count', 'sum'] as const;
export type Interval = (typeof INTERVALS)[number];
export type Aggregate = (typeof AGGREGATES)[number];

const isoTime = z.iso.datetime({ offset: true });
const aggArray = z.array(z.enum(AGGREGATES)).min(1);
/** `avg,max` in a query string, or already an array (when the parsed query is passed on over NATS). */
const aggList = z.union([
  aggArray,
  z
    .string()
    .transform((s) => s.split(',').map((a) => a.trim()))
    .pipe(aggArray),
]);

/** Query of `GET /api/v1/telemetry/:deviceId` (raw points, or buckets when `interval` is set). */
export const telemetryRangeQuerySchema = z.strictObject({
  metric: metricSchema.optional(),
  from: isoTime,
  to: isoTime,
  interval: z.enum(INTERVALS).optional(),
  agg: aggList.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
  cursor: z
    .string()
    .max(512)
    .regex(/^[A-Za-z0-9_-]+$/, 'an opaque cursor from next_cursor')
    .optional(),
});
export type TelemetryRangeQuery = z.infer<typeof telemetryRangeQuerySchema>;

/** Body of `POST /api/v1/telemetry/query`: buckets for many devices at once. */
export const telemetryMultiQuerySchema = z.strictObject({
  device_ids: z.array(deviceIdSchema).min(1).max(1_000),
  metrics: z.array(metricSchema).min(1).max(100).optional(),
  from: isoTime,
  to: isoTime,
  interval: z.enum(INTERVALS),
  agg: z.array(z.enum(AGGREGATES)).min(1).default(['avg']),
});
export type TelemetryMultiQuery = z.infer<typeof telemetryMultiQuerySchema>;

export const rawPointSchema = z.object({ metric: z.string(), ts: isoTime, value: z.number() });
export const bucketRowSchema = z
  .object({ bucket: isoTime, metric: z.string(), device_id: z.string().optional() })
  .catchall(z.number().nullable());
export type BucketRow = z.infer<typeof bucketRowSchema>;
export const latestValueSchema = z.object({ metric: z.string(), ts: isoTime, value: z.number() });
