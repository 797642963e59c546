import { z } from 'zod';
import { defineRequest } from '../core/contract.js';
import {
  commandAcceptedSchema,
  commandPageSchema,
  commandSchema,
  createCommandBodySchema,
  createDeviceBodySchema,
  createSiteBodySchema,
  deviceIdSchema,
  devicePageSchema,
  deviceSchema,
  deviceStateSchema,
  idempotencyKeySchema,
  listCommandsQuerySchema,
  listDevicesQuerySchema,
  orgIdSchema,
  siteIdSchema,
  siteSchema,
  updateDeviceBodySchema,
  updateSiteBodySchema,
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
  update: defineRequest({
    subject: 'svc.device.update',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: deviceIdSchema, changes: updateDeviceBodySchema }),
    response: deviceSchema,
  }),
  delete: defineRequest({
    subject: 'svc.device.delete',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: deviceIdSchema }),
    response: z.object({ deleted: z.literal(true) }),
  }),
  state: defineRequest({
    subject: 'svc.device.state',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: deviceIdSchema }),
    response: deviceStateSchema,
  }),
  createSite: defineRequest({
    subject: 'svc.device.sites.create',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, site: createSiteBodySchema }),
    response: siteSchema,
  }),
  listSites: defineRequest({
    subject: 'svc.device.sites.list',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema }),
    response: z.object({ data: z.array(siteSchema) }),
  }),
  getSite: defineRequest({
    subject: 'svc.device.sites.get',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: siteIdSchema }),
    response: siteSchema,
  }),
  updateSite: defineRequest({
    subject: 'svc.device.sites.update',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: siteIdSchema, changes: updateSiteBodySchema }),
    response: siteSchema,
  }),
  deleteSite: defineRequest({
    subject: 'svc.device.sites.delete',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: siteIdSchema }),
    response: z.object({ deleted: z.literal(true) }),
  }),
  createCommand: defineRequest({
    subject: 'svc.device.commands.create',
    queue: QUEUE,
    request: z.object({
      org_id: orgIdSchema,
      device_id: deviceIdSchema,
      command: createCommandBodySchema,
      idempotency_key: idempotencyKeySchema.optional(),
    }),
    response: commandAcceptedSchema,
  }),
  getCommand: defineRequest({
    subject: 'svc.device.commands.get',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, device_id: deviceIdSchema, id: z.uuid() }),
    response: commandSchema,
  }),
  listCommands: defineRequest({
    subject: 'svc.device.commands.list',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, device_id: deviceIdSchema, query: listCommandsQuerySchema }),
    response: commandPageSchema,
  }),
} as const;
