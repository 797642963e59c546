import { z } from 'zod';
import { deviceIdSchema } from '../device/device.schemas.js';
import { metricSchema } from '../telemetry/telemetry.schemas.js';

// WARNING: field names below are wire names (HTTP bodies, NATS payloads, stored events).

const isoTime = z.iso.datetime({ offset: true });
const finite = z.number().refine(Number.isFinite, 'a finite number');
const label = z.string().trim().min(1).max(128);

/** Alert severities, lowest first (escalation only ever moves up this list). */
export const SEVERITIES = ['info', 'warning', 'minor', 'major', 'critical'] as const;
export const severitySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof severitySchema>;

export const ALERT_STATUSES = ['active', 'acknowledged', 'resolved'] as const;
export const alertStatusSchema = z.enum(ALERT_STATUSES);
export type AlertStatus = z.infer<typeof alertStatusSchema>;

/**
 * What a rule tests on each point of its metric: `gt` (value > threshold), `lt` (value <
 * threshold), `outside` (value < low or value > high), or `no_data` (no point of the metric for
 * `minutes`, checked every few seconds against arrival time).
 */
export const ruleConditionSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('gt'), threshold: finite }),
  z.strictObject({ op: z.literal('lt'), threshold: finite }),
  z
    .strictObject({ op: z.literal('outside'), low: finite, high: finite })
    .refine((c) => c.low < c.high, { message: 'low must be below high', path: ['low'] }),
  z.strictObject({ op: z.literal('no_data'), minutes: z.number().int().min(1).max(10_080) }),
]);
export type RuleCondition = z.infer<typeof ruleConditionSchema>;

/**
 * When a breaching condition raises an alert: `simple` at the first breaching point; `duration`
 * once every point for `seconds` (point time) breached; `repeating` once `count` breaching points
 * fall within `window_seconds`.
 */
export const ruleModeSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('simple') }),
  z.strictObject({ type: z.literal('duration'), seconds: z.number().int().min(1).max(86_400) }),
  z.strictObject({
    type: z.literal('repeating'),
    count: z.number().int().min(2).max(10_000),
    window_seconds: z.number().int().min(1).max(86_400),
  }),
]);
export type RuleMode = z.infer<typeof ruleModeSchema>;

/** Which devices a rule watches; every given field must match (none given: every device of the org). */
export const ruleScopeSchema = z.strictObject({
  device_ids: z.array(deviceIdSchema).min(1).max(1_000).optional(),
  device_type: label.optional(),
  site: label.optional(),
  tag: label.optional(),
});
export type RuleScope = z.infer<typeof ruleScopeSchema>;

/** Raise the severity to `severity` once the breach has lasted `after_seconds` since the alert was raised. */
export const escalationStepSchema = z.strictObject({
  after_seconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400),
  severity: severitySchema,
});

const ruleFields = {
  name: label,
  metric: metricSchema,
  scope: ruleScopeSchema.default({}),
  condition: ruleConditionSchema,
  mode: ruleModeSchema.default({ type: 'simple' }),
  severity: severitySchema.default('warning'),
  /** After an alert of this rule was raised for a series, none is raised again for this long (point time). */
  cooldown_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(0),
  escalation: z.array(escalationStepSchema).max(4).default([]),
  /** Consecutive normal points that resolve the alert (`resolved_by: "auto"`); 0 = never auto-resolve. */
  auto_resolve_after: z.number().int().min(0).max(10_000).default(3),
  enabled: z.boolean().default(true),
};

/** `POST /api/v1/alert-rules`. */
export const createAlertRuleBodySchema = z.strictObject(ruleFields);
export type CreateAlertRuleBody = z.infer<typeof createAlertRuleBodySchema>;

/** `PATCH /api/v1/alert-rules/:id`: any field of the rule (the metric included). */
export const updateAlertRuleBodySchema = z
  .strictObject({
    name: ruleFields.name.optional(),
    metric: ruleFields.metric.optional(),
    scope: ruleScopeSchema.optional(),
    condition: ruleConditionSchema.optional(),
    mode: ruleModeSchema.optional(),
    severity: severitySchema.optional(),
    cooldown_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .optional(),
    escalation: z.array(escalationStepSchema).max(4).optional(),
    auto_resolve_after: z.number().int().min(0).max(10_000).optional(),
    enabled: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'at least one field');
export type UpdateAlertRuleBody = z.infer<typeof updateAlertRuleBodySchema>;

export const alertRuleSchema = z.object({
  id: z.uuid(),
  org_id: z.string(),
  name: z.string(),
  metric: z.string(),
  scope: ruleScopeSchema,
  condition: ruleConditionSchema,
  mode: ruleModeSchema,
  severity: severitySchema,
  cooldown_seconds: z.number().int(),
  escalation: z.array(escalationStepSchema),
  auto_resolve_after: z.number().int(),
  enabled: z.boolean(),
  created_at: isoTime,
  updated_at: isoTime,
});
export type AlertRule = z.infer<typeof alertRuleSchema>;

/** An alert: one open (active or acknowledged) per (source, device, metric) at a time. */
export const alertSchema = z.object({
  id: z.uuid(),
  org_id: z.string(),
  /** `rule`: a threshold rule (`rule_id` set); `anomaly`: the statistical detector. */
  source: z.enum(['rule', 'anomaly']),
  rule_id: z.uuid().nullable(),
  device_id: z.string(),
  metric: z.string(),
  severity: severitySchema,
  status: alertStatusSchema,
  message: z.string(),
  /** The value that raised it (null for no-data alerts). */
  value: z.number().nullable(),
  /** Time of the point (or the no-data check) that raised it. */
  triggered_at: isoTime,
  raised_at: isoTime,
  acknowledged_at: isoTime.nullable(),
  acknowledged_by: z.string().nullable(),
  resolved_at: isoTime.nullable(),
  /** A user id, or `auto` when normal points resolved it. */
  resolved_by: z.string().nullable(),
});
export type Alert = z.infer<typeof alertSchema>;

export const MAX_ALERT_PAGE = 500;

/** `GET /api/v1/alerts?status=&severity=&device=&limit=`: newest first. */
export const listAlertsQuerySchema = z.strictObject({
  status: alertStatusSchema.optional(),
  severity: severitySchema.optional(),
  device: deviceIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_ALERT_PAGE).default(100),
});
export type ListAlertsQuery = z.infer<typeof listAlertsQuerySchema>;

/** `POST /api/v1/alerts/:id/ack|resolve` (optional body). */
export const alertActionBodySchema = z.strictObject({ note: z.string().max(1_000).optional() }).default({});

/** A point the detector scored as anomalous. */
export const anomalySchema = z.object({
  device_id: z.string(),
  metric: z.string(),
  ts: isoTime,
  value: z.number(),
  /** |value − expected| / σ for `spike`; the CUSUM statistic (in σ) for `drift`. */
  score: z.number(),
  kind: z.enum(['spike', 'drift']),
  expected: z.number(),
  expected_low: z.number(),
  expected_high: z.number(),
});
export type Anomaly = z.infer<typeof anomalySchema>;

/** `GET /api/v1/analytics/anomalies?from=&to=&device=&metric=&limit=`, newest first. */
export const anomaliesQuerySchema = z
  .strictObject({
    from: isoTime,
    to: isoTime,
    device: deviceIdSchema.optional(),
    metric: metricSchema.optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
  })
  .refine((q) => Date.parse(q.from) <= Date.parse(q.to), { message: 'from after to', path: ['from'] });
export type AnomaliesQuery = z.infer<typeof anomaliesQuerySchema>;

/** `GET /api/v1/analytics/summary`. */
export const analyticsSummarySchema = z.object({
  devices: z.object({ online: z.number().int(), offline: z.number().int(), unknown: z.number().int() }),
  /** Points analytics consumed for the org in each of the last `minutes` whole minutes, oldest first. */
  points_per_minute: z.array(z.object({ minute: isoTime, points: z.number().int() })),
  active_alerts: z.record(severitySchema, z.number().int()),
  /** Most anomalies in the last 24 h. */
  top_anomalous_devices: z.array(z.object({ device_id: z.string(), anomalies: z.number().int() })),
  generated_at: isoTime,
});
export type AnalyticsSummary = z.infer<typeof analyticsSummarySchema>;

export const summaryQuerySchema = z.strictObject({
  minutes: z.coerce.number().int().min(1).max(1_440).default(15),
  top: z.coerce.number().int().min(1).max(100).default(10),
});
export type SummaryQuery = z.infer<typeof summaryQuerySchema>;

/** `GET /api/v1/analytics/rollups?device=&metric=&from=&to=&interval=1h|1d&agg=`. */
export const rollupsQuerySchema = z
  .strictObject({
    device: z
      .union([z.array(deviceIdSchema), z.string().transform((s) => s.split(',').map((d) => d.trim()))])
      .pipe(z.array(deviceIdSchema).min(1).max(1_000)),
    metric: metricSchema.optional(),
    from: isoTime,
    to: isoTime,
    interval: z.enum(['1h', '1d']).default('1h'),
    agg: z
      .union([
        z.array(z.enum(['avg', 'min', 'max', 'count', 'sum'])),
        z.string().transform((s) => s.split(',').map((a) => a.trim())),
      ])
      .pipe(z.array(z.enum(['avg', 'min', 'max', 'count', 'sum'])).min(1))
      .default(['avg', 'min', 'max', 'count']),
  })
  .refine((q) => Date.parse(q.from) < Date.parse(q.to), {
    message: 'from must be before to',
    path: ['from'],
  });
export type RollupsQuery = z.infer<typeof rollupsQuerySchema>;

/** `POST /api/v1/analytics/capacity`. */
export const capacityBodySchema = z.strictObject({
  devices: z.number().int().min(1).max(1e9),
  samples_per_second_per_device: z.number().positive().max(1e6),
  retention_days: z.number().int().min(1).max(3_650),
  /** Stored bytes per sample (row + index share); default from the platform's own measure. */
  bytes_per_sample: z.number().int().min(8).max(100_000).optional(),
});
export type CapacityBody = z.infer<typeof capacityBodySchema>;

export const capacityEstimateSchema = z.object({
  input: z.object({
    devices: z.number(),
    samples_per_second_per_device: z.number(),
    retention_days: z.number(),
    bytes_per_sample: z.number(),
  }),
  points_per_second: z.number(),
  cores: z.number().int(),
  memory_gib: z.number(),
  storage_gib: z.number(),
  /** Inbound bandwidth at the gateway, megabits per second. */
  bandwidth_mbps: z.number(),
  /** The measured constants the estimate uses. */
  basis: z.record(z.string(), z.union([z.number(), z.string()])),
  /** Each formula, written out with the numbers used. */
  formula: z.record(z.string(), z.string()),
});
export type CapacityEstimate = z.infer<typeof capacityEstimateSchema>;

/** `id` path parameter of rules and alerts. */
export const analyticsIdSchema = z.uuid();
