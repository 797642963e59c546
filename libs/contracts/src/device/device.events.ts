import { z } from 'zod';
import { defineEvent } from '../core/contract.js';
import { deviceSchema } from './device.schemas.js';

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
