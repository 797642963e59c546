import { z } from 'zod';
import { defineEvent } from '../core/contract.js';
import { deviceSchema, deviceStatusSchema } from './device.schemas.js';

// WARNING: subjects and payload fields are wire names: external consumers bind to them.

/** `device.<orgId>.<deviceId>.registered`: a device was added to the registry. */
export const DeviceRegistered = defineEvent({
  stream: 'DEVICE',
  type: 'device.registered',
  version: 1,
  subject: (orgId: string, deviceId: string) => `device.${orgId}.${deviceId}.registered`,
  filter: 'device.*.*.registered',
  schema: z.object({
    version: z.literal(1),
    device: deviceSchema,
    occurred_at: z.iso.datetime({ offset: true }),
  }),
});

/**
 * `device.<orgId>.<deviceId>.status_changed`: a device came online (telemetry arrived) or went
 * offline (no telemetry for DEVICE_OFFLINE_AFTER_S).
 */
export const DeviceStatusChanged = defineEvent({
  stream: 'DEVICE',
  type: 'device.status_changed',
  version: 1,
  subject: (orgId: string, deviceId: string) => `device.${orgId}.${deviceId}.status_changed`,
  filter: 'device.*.*.status_changed',
  schema: z.object({
    version: z.literal(1),
    org_id: z.string(),
    device_id: z.string(),
    status: deviceStatusSchema,
    previous: deviceStatusSchema,
    last_seen: z.iso.datetime({ offset: true }).nullable(),
    occurred_at: z.iso.datetime({ offset: true }),
  }),
});
