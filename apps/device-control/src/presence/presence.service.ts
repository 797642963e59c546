import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TelemetryIngested, parseTelemetryIngestSubject } from '@conduit/contracts';
import { isDatabaseUnavailable } from '@conduit/database';
import { JetStreamConsumers, type ReceivedEvent } from '@conduit/messaging';
import { OutboxService, SERVICE_CONFIG } from '@conduit/runtime';
import { z } from 'zod';
import type { DeviceControlConfig } from '../config/device-control.config.js';
import { PresenceRepository, type Sighting } from './presence.repository.js';

/**
 * Device presence from telemetry. The durable consumer `device-control-presence` on TELEMETRY
 * (its own, beside the telemetry writer's: nothing is republished per point) reads only
 * subjects and arrival times — payloads are not even parsed — and updates `last_seen` and
 * `status = online` in one statement per batch. A sweep turns devices silent for
 * `DEVICE_OFFLINE_AFTER_S` offline. Both publish `device.<org>.<id>.status_changed` through the
 * outbox.
 */
@Injectable()
export class PresenceService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PresenceService.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private readonly options: DeviceControlConfig['service']['presence'];

  constructor(
    private readonly consumers: JetStreamConsumers,
    private readonly presence: PresenceRepository,
    private readonly outbox: OutboxService,
    @Inject(SERVICE_CONFIG) config: DeviceControlConfig,
  ) {
    this.options = config.service.presence;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consumers.run({
      stream: TelemetryIngested.stream,
      durable: 'device-control-presence',
      filterSubject: TelemetryIngested.filter,
      schema: z.unknown(),
      skipPayload: true,
      // A week of history says nothing about who is online now.
      startAt: 'new',
      batch: { maxMessages: this.options.batchMessages, maxWaitMs: this.options.batchWaitMs },
      handle: (events) => this.record(events),
      isTransient: isDatabaseUnavailable,
    });
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
    }, this.options.offlineCheckMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  async record(events: readonly ReceivedEvent<unknown>[]): Promise<void> {
    const sightings: Sighting[] = [];
    for (const e of events) {
      const ids = parseTelemetryIngestSubject(e.subject);
      // A subject naming no valid device is the telemetry writer's to dead-letter; nothing to see here.
      if (ids) sightings.push({ ...ids, at: e.publishedAt });
    }
    const { online } = await this.presence.seen(sightings);
    if (online > 0) this.outbox.flushSoon();
  }

  private async sweep(): Promise<void> {
    try {
      const offline = await this.presence.sweepOffline(this.options.offlineAfterS);
      if (offline > 0) {
        this.logger.log(`${offline} device(s) offline after ${this.options.offlineAfterS} s of silence`);
        this.outbox.flushSoon();
      }
    } catch (error) {
      this.logger.warn(`offline sweep failed: ${String(error)}`);
    }
  }
}
