import { z } from 'zod';
import { defineRequest } from '../core/contract.js';
import { deviceIdSchema, orgIdSchema } from '../device/device.schemas.js';
import {
  bucketRowSchema,
  latestValueSchema,
  rawPointSchema,
  telemetryMultiQuerySchema,
  telemetryRangeQuerySchema,
} from './telemetry.schemas.js';

/**
 * Where an answer was read: raw points, the 5-minute rollups (`points_5m`) or the hourly ones.
 * WARNING: wire values; a new source is added, never renamed.
 */
export const bucketSourceSchema = z.enum(['points', 'points_5m', 'points_hourly']);

const QUEUE = 'telemetry';

// WARNING: subjects are wire names.

export const TelemetryRequests = {
  range: defineRequest({
    subject: 'svc.telemetry.range',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, device_id: deviceIdSchema, query: telemetryRangeQuerySchema }),
    response: z.object({
      data: z.array(z.union([rawPointSchema, bucketRowSchema])),
      next_cursor: z.string().nullable().optional(),
      source: bucketSourceSchema,
    }),
  }),
  latest: defineRequest({
    subject: 'svc.telemetry.latest',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, device_id: deviceIdSchema }),
    response: z.object({ data: z.array(latestValueSchema) }),
  }),
  query: defineRequest({
    subject: 'svc.telemetry.query',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, query: telemetryMultiQuerySchema }),
    response: z.object({ data: z.array(bucketRowSchema), source: bucketSourceSchema }),
  }),
} as const;
