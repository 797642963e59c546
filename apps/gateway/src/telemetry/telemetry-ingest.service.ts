import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { TelemetryIngested, type TelemetryPoint, type TelemetryReading } from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { EventPublisher } from '@conduit/messaging';
import { ApiError } from '../common/api.error.js';

/** Ingest limits from the gateway config. */
export const INGEST_LIMITS = Symbol('INGEST_LIMITS');
export interface IngestLimits {
  readonly maxPointsPerRequest: number;
  readonly pointsPerMessage: number;
}

interface Point {
  readonly metric: string;
  readonly ts: number;
  readonly value: number;
}

const toMs = (ts: string | number): number => (typeof ts === 'number' ? ts : Date.parse(ts));

/**
 * Turns accepted points into messages on `telemetry.ingest.<org>.<device>` (at most
 * `pointsPerMessage` points each) and resolves only when JetStream has acknowledged every one,
 * so a 202 means durable. Message ids are `<batch_id>:<device>:<n>`: a client retrying the same
 * batch inside the stream's duplicate window is stored once.
 */
@Injectable()
export class TelemetryIngestService {
  constructor(
    private readonly publisher: EventPublisher,
    @Inject(INGEST_LIMITS) private readonly limits: IngestLimits,
  ) {}

  readingToPoints(reading: TelemetryReading, now: number): TelemetryPoint[] {
    const ts = reading.timestamp ?? now;
    return Object.entries(reading.data).map(([metric, value]) => ({
      device_id: reading.device_id,
      metric,
      ts,
      value,
    }));
  }

  async ingest(
    scope: TenantScope,
    points: readonly TelemetryPoint[],
    idempotencyKey?: string,
  ): Promise<{ accepted: number; batch_id: string }> {
    if (points.length > this.limits.maxPointsPerRequest) {
      throw new ApiError(
        'payload_too_large',
        `at most ${this.limits.maxPointsPerRequest} points per request`,
      );
    }
    const byDevice = new Map<string, Point[]>();
    for (const p of points) {
      let list = byDevice.get(p.device_id);
      if (!list) byDevice.set(p.device_id, (list = []));
      list.push({ metric: p.metric, ts: toMs(p.ts), value: p.value });
    }
    const batchId = idempotencyKey ?? this.contentId(scope, byDevice);
    const publishes: Promise<unknown>[] = [];
    for (const [deviceId, list] of byDevice) {
      for (let i = 0, n = 0; i < list.length; i += this.limits.pointsPerMessage, n++) {
        publishes.push(
          this.publisher.publishRaw(
            TelemetryIngested.subject(scope.orgId, deviceId),
            { version: 1, points: list.slice(i, i + this.limits.pointsPerMessage) },
            { msgId: `${batchId}:${deviceId}:${n}` },
          ),
        );
      }
    }
    const results = await Promise.allSettled(publishes);
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) {
      // Retrying the same request is safe: what was stored is deduplicated by message id.
      throw new ApiError(
        'unavailable',
        `${failed} of ${publishes.length} messages were not stored; retry the request`,
      );
    }
    return { accepted: points.length, batch_id: batchId };
  }

  /** A batch id derived from the content, so an identical retry gets the same message ids. */
  private contentId(scope: TenantScope, byDevice: Map<string, Point[]>): string {
    const hash = createHash('sha256').update(scope.orgId);
    for (const [device, list] of byDevice) {
      hash.update(`|${device}`);
      for (const p of list) hash.update(`|${p.metric},${p.ts},${p.value}`);
    }
    return hash.digest('base64url').slice(0, 22);
  }
}
