import { z } from 'zod';
import { defineEvent } from '../core/contract.js';
import { commandStatusSchema, deviceSchema, deviceStatusSchema } from './device.schemas.js';

// WARNING: subjects and payload fields are wire names: external consumers bind to them.

/**
 * Wildcard of the events about a device itself — `registered`, `updated`, `deleted`,
 * `status_changed` and also `state` (`device.<org>.<device>.<event>`) — and not of its commands
 * (`….command.<status>`, one token more). One filter, for a JetStream consumer (nats-server 2.9
 * takes one per consumer); a subscriber that needs the record events only takes
 * {@link DEVICE_RECORD_SUBJECTS}.
 */
export const DEVICE_RECORD_EVENTS = 'device.*.*.*';

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

/** `device.<orgId>.<deviceId>.updated`: registry fields changed; `device` is the new state. */
export const DeviceUpdated = defineEvent({
  stream: 'DEVICE',
  type: 'device.updated',
  version: 1,
  subject: (orgId: string, deviceId: string) => `device.${orgId}.${deviceId}.updated`,
  filter: 'device.*.*.updated',
  schema: z.object({
    version: z.literal(1),
    device: deviceSchema,
    changed: z.array(z.string()),
    occurred_at: z.iso.datetime({ offset: true }),
  }),
});

/** `device.<orgId>.<deviceId>.deleted`: removed from the registry (its commands and state too). */
export const DeviceDeleted = defineEvent({
  stream: 'DEVICE',
  type: 'device.deleted',
  version: 1,
  subject: (orgId: string, deviceId: string) => `device.${orgId}.${deviceId}.deleted`,
  filter: 'device.*.*.deleted',
  schema: z.object({
    version: z.literal(1),
    org_id: z.string(),
    device_id: z.string(),
    occurred_at: z.iso.datetime({ offset: true }),
  }),
});

/**
 * The subjects of changes to a device record (registry and status), without `state`: a vendor's
 * reported state comes with nearly every command, and it changes no record (the gateway's
 * response cache subscribes to these, so a command costs it no invalidation).
 */
export const DEVICE_RECORD_SUBJECTS: readonly string[] = [
  DeviceRegistered.filter,
  DeviceUpdated.filter,
  DeviceDeleted.filter,
  DeviceStatusChanged.filter,
];

/**
 * `device.<orgId>.<deviceId>.command.<status>`: one event per transition of a command's
 * lifecycle (`queued`, `sent`, `delivered`, `succeeded`, `failed`, `timeout`, `expired`).
 */
export const DeviceCommandTransitioned = defineEvent({
  stream: 'DEVICE',
  type: 'device.command',
  version: 1,
  subject: (orgId: string, deviceId: string, status: string) =>
    `device.${orgId}.${deviceId}.command.${status}`,
  filter: 'device.*.*.command.*',
  schema: z.object({
    version: z.literal(1),
    org_id: z.string(),
    device_id: z.string(),
    command_id: z.uuid(),
    action: z.string(),
    status: commandStatusSchema,
    previous: commandStatusSchema.nullable(),
    reason: z.string().nullable(),
    attempts: z.number().int(),
    occurred_at: z.iso.datetime({ offset: true }),
  }),
});

/** `device.<orgId>.<deviceId>.state`: the vendor reported state (merged into `reported`). */
export const DeviceStateReported = defineEvent({
  stream: 'DEVICE',
  type: 'device.state',
  version: 1,
  subject: (orgId: string, deviceId: string) => `device.${orgId}.${deviceId}.state`,
  filter: 'device.*.*.state',
  schema: z.object({
    version: z.literal(1),
    org_id: z.string(),
    device_id: z.string(),
    reported: z.record(z.string(), z.unknown()),
    command_id: z.uuid().nullable(),
    occurred_at: z.iso.datetime({ offset: true }),
  }),
});

/**
 * Core NATS (not JetStream) `conduit.breaker.<service>.state_changed`: a circuit breaker of a
 * service changed state. Operators' tooling and dashboards may subscribe; nothing is stored.
 */
export const BREAKER_STATE_SUBJECT = (service: string) => `conduit.breaker.${service}.state_changed`;
