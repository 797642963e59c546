import { z } from 'zod';
import { defineRequest } from '../core/contract.js';
import {
  createDeviceBodySchema,
  deviceIdSchema,
  devicePageSchema,
  deviceSchema,
  listDevicesQuerySchema,
  orgIdSchema,
} from './device.schemas.js';

const QUEUE = 'device-control';

// WARNING: subjects are wire names; gateway replicas and device-control replicas of different
// versions must agree on them during a rolling deploy.

export const DeviceRequests = {
  create: defineRequest({
    subject: 'svc.device.create',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, device: createDeviceBodySchema }),
    response: deviceSchema,
  }),
  list: defineRequest({
    subject: 'svc.device.list',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, query: listDevicesQuerySchema }),
    response: devicePageSchema,
  }),
  get: defineRequest({
    subject: 'svc.device.get',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: deviceIdSchema }),
    response: deviceSchema,
  }),
} as const;
