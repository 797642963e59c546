import { defineEvent } from '../core/contract.js';
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
