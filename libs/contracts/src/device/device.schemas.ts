import { z } from 'zod';
import { SUBJECT_TOKEN } from '../core/contract.js';

// WARNING: field names below are wire names (HTTP bodies, NATS payloads, stored events).

export const DEVICE_STATUSES = ['online', 'offline', 'unknown'] as const;
export const deviceStatusSchema = z.enum(DEVICE_STATUSES);
export type DeviceStatus = z.infer<typeof deviceStatusSchema>;

/** Org ids and device ids appear in subjects, so they are subject tokens. */
export const orgIdSchema = z.string().regex(SUBJECT_TOKEN, 'letters, digits, _ or -, 1-128 characters');
export const deviceIdSchema = z.string().regex(SUBJECT_TOKEN, 'letters, digits, _ or -, 1-128 characters');

const label = z.string().trim().min(1).max(128);

/** A device as returned by the API and carried in events. */
export const deviceSchema = z.object({
  id: deviceIdSchema,
  org_id: orgIdSchema,
  name: label,
  site: label.nullable(),
  type: label,
  vendor: label.nullable(),
  external_id: z.string().max(256).nullable(),
  status: deviceStatusSchema,
  last_seen: z.iso.datetime({ offset: true }).nullable(),
  tags: z.array(label).max(64),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.iso.datetime({ offset: true }),
  updated_at: z.iso.datetime({ offset: true }),
});
export type Device = z.infer<typeof deviceSchema>;

/** Body of `POST /api/v1/devices`. Unknown fields are rejected so that typos surface. */
export const createDeviceBodySchema = z.strictObject({
  id: deviceIdSchema.optional(),
  name: label,
  site: label.optional(),
  type: label,
  vendor: label.optional(),
  external_id: z.string().min(1).max(256).optional(),
  tags: z.array(label).max(64).default([]),
  metadata: z
    .record(z.string(), z.unknown())
    .refine((m) => JSON.stringify(m).length <= 16_384, 'at most 16 KiB of JSON')
    .default({}),
});
export type CreateDeviceBody = z.infer<typeof createDeviceBodySchema>;

export const MAX_DEVICE_PAGE = 500;

/** Query of `GET /api/v1/devices`. */
export const listDevicesQuerySchema = z.strictObject({
  site: label.optional(),
  type: label.optional(),
  status: deviceStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_DEVICE_PAGE).default(50),
  cursor: z
    .string()
    .max(512)
    .regex(/^[A-Za-z0-9_-]+$/, 'an opaque cursor from next_cursor')
    .optional(),
});
export type ListDevicesQuery = z.infer<typeof listDevicesQuerySchema>;

export const devicePageSchema = z.object({
  data: z.array(deviceSchema),
  next_cursor: z.string().nullable(),
});
export type DevicePage = z.infer<typeof devicePageSchema>;

/** Body of `PATCH /api/v1/devices/:id`: any of the writable fields; `null` clears a nullable one. */
export const updateDeviceBodySchema = z
  .strictObject({
    name: label.optional(),
    site: label.nullable().optional(),
    type: label.optional(),
    vendor: label.nullable().optional(),
    external_id: z.string().min(1).max(256).nullable().optional(),
    tags: z.array(label).max(64).optional(),
    metadata: z
      .record(z.string(), z.unknown())
      .refine((m) => JSON.stringify(m).length <= 16_384, 'at most 16 KiB of JSON')
      .optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'at least one field to change');
export type UpdateDeviceBody = z.infer<typeof updateDeviceBodySchema>;

/** A site id is a subject token too (it may appear in breaker names and subjects). */
export const siteIdSchema = z.string().regex(SUBJECT_TOKEN, 'letters, digits, _ or -, 1-128 characters');

/**
 * Per-vendor settings of a site, e.g. `{ "http-bridge": { "base_url": "http://hub:8080",
 * "token_env": "HUB_NORTH_TOKEN" } }`. Secrets are never stored: only names of environment
 * variables of device-control that hold them.
 */
const integrationsSchema = z
  .record(z.string().regex(SUBJECT_TOKEN), z.record(z.string(), z.unknown()))
  .refine((m) => JSON.stringify(m).length <= 16_384, 'at most 16 KiB of JSON');

export const siteSchema = z.object({
  id: siteIdSchema,
  org_id: orgIdSchema,
  name: label,
  integrations: z.record(z.string(), z.record(z.string(), z.unknown())),
  created_at: z.iso.datetime({ offset: true }),
  updated_at: z.iso.datetime({ offset: true }),
});
export type Site = z.infer<typeof siteSchema>;

export const createSiteBodySchema = z.strictObject({
  id: siteIdSchema,
  name: label,
  integrations: integrationsSchema.default({}),
});
export type CreateSiteBody = z.infer<typeof createSiteBodySchema>;

export const updateSiteBodySchema = z
  .strictObject({ name: label.optional(), integrations: integrationsSchema.optional() })
  .refine((b) => Object.keys(b).length > 0, 'at least one field to change');
export type UpdateSiteBody = z.infer<typeof updateSiteBodySchema>;

// --- commands ---------------------------------------------------------------------------------

/**
 * `queued → sent → delivered → succeeded`, or `failed` (refused, or out of attempts),
 * `timeout` (sent, but no acknowledgement in time) or `expired` (deadline passed before delivery).
 */
export const COMMAND_STATUSES = [
  'queued',
  'sent',
  'delivered',
  'succeeded',
  'failed',
  'timeout',
  'expired',
] as const;
export const commandStatusSchema = z.enum(COMMAND_STATUSES);
export type CommandStatus = z.infer<typeof commandStatusSchema>;
export const TERMINAL_COMMAND_STATUSES: readonly CommandStatus[] = [
  'succeeded',
  'failed',
  'timeout',
  'expired',
];

/** Body of `POST /api/v1/devices/:id/commands`. */
export const createCommandBodySchema = z.strictObject({
  action: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'a letter, then letters, digits, _ . or -, at most 64'),
  params: z
    .record(z.string(), z.unknown())
    .refine((m) => JSON.stringify(m).length <= 16_384, 'at most 16 KiB of JSON')
    .default({}),
  /** Seconds from now after which an undelivered command expires (default: DEVICE_COMMAND_TTL_S). */
  ttl_s: z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .optional(),
});
export type CreateCommandBody = z.infer<typeof createCommandBodySchema>;

/** `Idempotency-Key`: the same key for the same device returns the first command. */
export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII');

/** A command's id: a UUID, made by device-control when it accepts the command. */
export const commandIdSchema = z.uuid();

export const commandTransitionSchema = z.object({
  status: commandStatusSchema,
  at: z.iso.datetime({ offset: true }),
  reason: z.string().nullable(),
});

export const commandSchema = z.object({
  id: commandIdSchema,
  org_id: orgIdSchema,
  device_id: deviceIdSchema,
  action: z.string(),
  params: z.record(z.string(), z.unknown()),
  status: commandStatusSchema,
  reason: z.string().nullable(),
  attempts: z.number().int(),
  idempotency_key: z.string().nullable(),
  deadline: z.iso.datetime({ offset: true }),
  created_at: z.iso.datetime({ offset: true }),
  updated_at: z.iso.datetime({ offset: true }),
  history: z.array(commandTransitionSchema),
});
export type Command = z.infer<typeof commandSchema>;

/** Answer of `POST …/commands`: `status` is the command's state when the answer left. */
export const commandAcceptedSchema = z.object({
  command_id: commandIdSchema,
  status: commandStatusSchema,
  created: z.boolean(),
});
export type CommandAccepted = z.infer<typeof commandAcceptedSchema>;

export const listCommandsQuerySchema = z.strictObject({
  status: commandStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_DEVICE_PAGE).default(50),
  cursor: z
    .string()
    .max(512)
    .regex(/^[A-Za-z0-9_-]+$/, 'an opaque cursor from next_cursor')
    .optional(),
});
export type ListCommandsQuery = z.infer<typeof listCommandsQuerySchema>;

export const commandPageSchema = z.object({
  data: z.array(commandSchema.omit({ history: true })),
  next_cursor: z.string().nullable(),
});
export type CommandPage = z.infer<typeof commandPageSchema>;

/**
 * A device's shadow: `reported` (latest telemetry values and state acknowledged by the vendor),
 * `desired` (from accepted `set_state` commands) and `delta`: desired keys whose reported value
 * differs or is missing.
 */
export const deviceStateSchema = z.object({
  device_id: deviceIdSchema,
  reported: z.record(z.string(), z.unknown()),
  desired: z.record(z.string(), z.unknown()),
  delta: z.record(z.string(), z.unknown()),
  reported_at: z.iso.datetime({ offset: true }).nullable(),
  desired_at: z.iso.datetime({ offset: true }).nullable(),
});
export type DeviceState = z.infer<typeof deviceStateSchema>;
