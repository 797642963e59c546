import { defineEvent } from '../core/contract.js';
import { deviceIdSchema, orgIdSchema } from '../device/device.schemas.js';
import { telemetryIngestMessageSchema } from './telemetry.schemas.js';

// WARNING: the subject and payload are the public ingest contract for external producers.

/** `telemetry.ingest.<orgId>.<deviceId>`: a batch of points of one device. */
export const TelemetryIngested = defineEvent({
  stream: 'TELEMETRY',
  type: 'telemetry.ingest',
  version: 1,
  subject: (orgId: string, deviceId: string) => `telemetry.ingest.${orgId}.${deviceId}`,
  filter: 'telemetry.ingest.*.*',
  schema: telemetryIngestMessageSchema,
});

/** The org and device of a `telemetry.ingest.<orgId>.<deviceId>` subject, or undefined when it names none. */
export function parseTelemetryIngestSubject(
  subject: string,
): { orgId: string; deviceId: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== 'telemetry' || parts[1] !== 'ingest') return undefined;
  const org = orgIdSchema.safeParse(parts[2]);
  const device = deviceIdSchema.safeParse(parts[3]);
  return org.success && device.success ? { orgId: org.data, deviceId: device.data } : undefined;
}
