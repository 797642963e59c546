import { describe, expect, it } from 'vitest';
import { defineRequest } from '../core/contract.js';
import { toFieldIssues } from '../core/errors.js';
import { DeviceRegistered } from './device.events.js';
import { createDeviceBodySchema, listDevicesQuerySchema } from './device.schemas.js';
import { z } from 'zod';

describe('device contracts', () => {
  it('applies defaults and rejects unknown fields naming them', () => {
    expect(createDeviceBodySchema.parse({ name: 'a', type: 'b' })).toEqual({
      name: 'a',
      type: 'b',
      tags: [],
      metadata: {},
    });
    const result = createDeviceBodySchema.safeParse({ name: 'a', type: 'b', colour: 'red' });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('colour');
  });

  it('coerces query strings and bounds the page size', () => {
    expect(listDevicesQuerySchema.parse({ limit: '25' }).limit).toBe(25);
    expect(listDevicesQuerySchema.parse({}).limit).toBe(50);
    const tooBig = listDevicesQuerySchema.safeParse({ limit: '501' });
    expect(tooBig.success).toBe(false);
    expect(toFieldIssues(tooBig.error as z.ZodError, 'query')[0]?.field).toBe('query.limit');
  });

  it('keeps ids that are subject tokens only', () => {
    expect(createDeviceBodySchema.safeParse({ id: 'pump-1_a', name: 'a', type: 'b' }).success).toBe(true);
    for (const id of ['a.b', 'a*', 'a b', '>', '']) {
      expect(createDeviceBodySchema.safeParse({ id, name: 'a', type: 'b' }).success).toBe(false);
    }
  });

  it('builds event subjects and refuses request subjects outside svc.<service>.<op>', () => {
    expect(DeviceRegistered.subject('org1', 'dev1')).toBe('device.org1.dev1.registered');
    const shape = { queue: 'q', request: z.object({}), response: z.object({}) };
    expect(() => defineRequest({ subject: 'device.list', ...shape })).toThrow(/bad request subject/);
    expect(defineRequest({ subject: 'svc.device.list', ...shape }).subject).toBe('svc.device.list');
  });
});
