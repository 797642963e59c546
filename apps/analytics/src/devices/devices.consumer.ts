import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  DEVICE_RECORD_EVENTS,
  DeviceDeleted,
  DeviceRegistered,
  DeviceStatusChanged,
  DeviceUpdated,
} from '@conduit/contracts';
import { isDatabaseUnavailable } from '@conduit/database';
import { JetStreamConsumers, type ReceivedEvent } from '@conduit/messaging';
import { z } from 'zod';
import { DevicesRepository, type DeviceChange } from './devices.repository.js';

/**
 * The durable consumer `analytics-devices` on DEVICE (`device.*.*.*`: registered, updated,
 * deleted, status_changed; command and state events have other shapes or depth and are ignored),
 * keeping `analytics.devices` — the attributes rule scopes match on and the online/offline
 * counts of the summary. It starts from the beginning of the stream on first creation.
 */
@Injectable()
export class DevicesConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly consumers: JetStreamConsumers,
    private readonly devices: DevicesRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.consumers.run({
      stream: DeviceRegistered.stream,
      durable: 'analytics-devices',
      filterSubject: DEVICE_RECORD_EVENTS,
      schema: z.unknown(),
      batch: { maxMessages: 100, maxWaitMs: 50 },
      handle: (events) => this.devices.apply(toChanges(events)),
      isTransient: isDatabaseUnavailable,
    });
  }
}

/** DEVICE events → projection changes; events of other kinds or shapes are skipped. */
export function toChanges(events: readonly ReceivedEvent<unknown>[]): DeviceChange[] {
  const changes: DeviceChange[] = [];
  for (const e of events) {
    const kind = e.subject.split('.')[3];
    if (kind === 'registered' || kind === 'updated') {
      const parsed = (kind === 'registered' ? DeviceRegistered : DeviceUpdated).schema.safeParse(e.data);
      if (!parsed.success) continue;
      const d = parsed.data.device;
      changes.push({
        kind: 'upsert',
        attributes: { orgId: d.org_id, deviceId: d.id, type: d.type, site: d.site, tags: d.tags },
        status: d.status,
        at: new Date(parsed.data.occurred_at),
      });
    } else if (kind === 'status_changed') {
      const parsed = DeviceStatusChanged.schema.safeParse(e.data);
      if (parsed.success) {
        changes.push({
          kind: 'status',
          orgId: parsed.data.org_id,
          deviceId: parsed.data.device_id,
          status: parsed.data.status,
          at: new Date(parsed.data.occurred_at),
        });
      }
    } else if (kind === 'deleted') {
      const parsed = DeviceDeleted.schema.safeParse(e.data);
      if (parsed.success)
        changes.push({ kind: 'delete', orgId: parsed.data.org_id, deviceId: parsed.data.device_id });
    }
  }
  return changes;
}
