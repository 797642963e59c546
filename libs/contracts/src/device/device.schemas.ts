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
