import type { ReceivedEvent } from '@conduit/messaging';
import { describe, expect, it } from 'vitest';
import { DevicesConsumer, toChanges } from './devices.consumer.js';

const at = '2026-12-01T10:00:00.000Z';
const event = (subject: string, data: unknown): ReceivedEvent<unknown> => ({
  subject,
  data,
  headers: {},
  streamSeq: 1,
  streamEpoch: 1,
  deliveryCount: 1,
  publishedAt: new Date(at),
});
const device = {
  id: 'd1',
  org_id: 'o1',
  name: 'pump',
  site: 'north',
  type: 'pump',
  vendor: null,
  external_id: null,
  status: 'unknown',
  last_seen: null,
  tags: ['a'],
  metadata: {},
  created_at: at,
  updated_at: at,
};

describe(DevicesConsumer.name, () => {
  it('maps registry events to projection changes and skips other kinds and bad shapes', () => {
    const sut = toChanges([
      event('device.o1.d1.registered', { version: 1, device, occurred_at: at }),
      event('device.o1.d1.status_changed', {
        version: 1,
        org_id: 'o1',
        device_id: 'd1',
        status: 'online',
        previous: 'unknown',
        last_seen: at,
        occurred_at: at,
      }),
      event('device.o1.d1.state', { version: 1, reported: {} }),
      event('device.o1.d1.updated', { version: 1, device: { id: 'd1' }, occurred_at: at }),
      event('device.o1.d1.deleted', { version: 1, org_id: 'o1', device_id: 'd1', occurred_at: at }),
    ]);
    expect(sut).toEqual([
      {
        kind: 'upsert',
        attributes: { orgId: 'o1', deviceId: 'd1', type: 'pump', site: 'north', tags: ['a'] },
        status: 'unknown',
        at: new Date(at),
      },
      { kind: 'status', orgId: 'o1', deviceId: 'd1', status: 'online', at: new Date(at) },
      { kind: 'delete', orgId: 'o1', deviceId: 'd1' },
    ]);
  });
});
