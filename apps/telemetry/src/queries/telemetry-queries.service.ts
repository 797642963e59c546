import { Inject, Injectable } from '@nestjs/common';
import type {
  Aggregate,
  FieldIssue,
  Interval,
  TelemetryMultiQuery,
  TelemetryRangeQuery,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { RpcError } from '@conduit/messaging';
import { TelemetryQueriesRepository, type BucketSource } from './telemetry-queries.repository.js';

export const QUERY_LIMITS = Symbol('QUERY_LIMITS');
export interface QueryLimits {
  /** Longest window of raw points one request may read. */
  readonly maxRawWindowHours: number;
  /** Bucketed ranges longer than this read the hourly rollups (intervals of 1h or more). */
  readonly rollupAfterHours: number;
  /** Bucketed ranges longer than this (intervals of 5m or more) read the 5-minute rollups. */
  readonly rawBucketsMaxHours: number;
  /** Most buckets one series may return. */
  readonly maxBuckets: number;
}

const HOUR_MS = 3_600_000;
const FIVE_MINUTES_MS = 300_000;
const INTERVAL_MS: Readonly<Record<Interval, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': HOUR_MS,
  '1d': 24 * HOUR_MS,
};

const invalid = (field: string, message: string): RpcError =>
  new RpcError('validation_failed', `${field}: ${message}`, [{ field, message } satisfies FieldIssue]);

/** Encodes the (ts, metric) of the last row of a raw page. */
export const encodeRawCursor = (ts: string, metric: string): string =>
  Buffer.from(`${ts}|${metric}`).toString('base64url');
export function decodeRawCursor(raw: string): { ts: string; metric: string } | undefined {
  const [ts, metric] = Buffer.from(raw, 'base64url').toString().split('|');
  return ts && metric && !Number.isNaN(Date.parse(ts)) ? { ts, metric } : undefined;
}

@Injectable()
export class TelemetryQueriesService {
  constructor(
    private readonly repository: TelemetryQueriesRepository,
    @Inject(QUERY_LIMITS) private readonly limits: QueryLimits,
  ) {}

  async range(scope: TenantScope, deviceId: string, q: TelemetryRangeQuery) {
    const { from, to, hours } = this.window(q.from, q.to, 'query');
    if (q.interval) {
      const aggregates = (q.agg ?? ['avg']) as Aggregate[];
      const source = this.source(q.interval, hours, 'query');
      this.bucketBudget(hours, q.interval, 'query.interval');
      const data = await this.repository.buckets(scope, {
        deviceIds: [deviceId],
        metrics: q.metric ? [q.metric] : undefined,
        from,
        to,
        interval: q.interval,
        aggregates,
        source,
        withDevice: false,
      });
      return { data, source };
    }
    if (q.agg) throw invalid('query.agg', 'needs an interval');
    if (hours > this.limits.maxRawWindowHours) {
      throw invalid(
        'query.to',
        `raw points over at most ${this.limits.maxRawWindowHours} h; use interval= for longer ranges`,
      );
    }
    const after = q.cursor === undefined ? undefined : decodeRawCursor(q.cursor);
    if (q.cursor !== undefined && !after)
      throw invalid('query.cursor', 'not a cursor returned by next_cursor');
    const rows = await this.repository.raw(scope, {
      deviceId,
      metric: q.metric,
      from,
      to,
      limit: q.limit,
      after,
    });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      data: page,
      next_cursor: rows.length > q.limit && last ? encodeRawCursor(last.ts, last.metric) : null,
      source: 'points' as const,
    };
  }

  async query(scope: TenantScope, q: TelemetryMultiQuery) {
    const { from, to, hours } = this.window(q.from, q.to, 'query');
    const source = this.source(q.interval, hours, 'query');
    this.bucketBudget(hours, q.interval, 'query.interval');
    const data = await this.repository.buckets(scope, {
      deviceIds: q.device_ids,
      metrics: q.metrics,
      from,
      to,
      interval: q.interval,
      aggregates: q.agg,
      source,
      withDevice: true,
    });
    return { data, source };
  }

  async latest(scope: TenantScope, deviceId: string) {
    return { data: await this.repository.latest(scope, deviceId) };
  }

  private window(fromRaw: string, toRaw: string, prefix: string): { from: Date; to: Date; hours: number } {
    const from = new Date(fromRaw);
    const to = new Date(toRaw);
    if (to.getTime() <= from.getTime()) throw invalid(`${prefix}.to`, 'must be after from');
    return { from, to, hours: (to.getTime() - from.getTime()) / HOUR_MS };
  }

  /**
   * Short ranges read raw points; longer ones a rollup: the 5-minute one for intervals of 5m to
   * 15m (or any interval up to TELEMETRY_ROLLUP_AFTER_HOURS), the hourly one past that for 1h
   * and more. Rollups are exact for every aggregate offered, and their buckets line up with the
   * intervals (every bin has the same origin), so the answer is the same from either source.
   */
  private source(interval: Interval, hours: number, prefix: string): BucketSource {
    const ms = INTERVAL_MS[interval];
    if (ms < FIVE_MINUTES_MS) {
      if (hours <= this.limits.rollupAfterHours) return 'points';
      throw invalid(
        `${prefix}.interval`,
        `ranges over ${this.limits.rollupAfterHours} h need an interval of 5m or more`,
      );
    }
    if (hours <= this.limits.rawBucketsMaxHours) return 'points';
    if (ms >= HOUR_MS && hours > this.limits.rollupAfterHours) return 'points_hourly';
    return 'points_5m';
  }

  private bucketBudget(hours: number, interval: Interval, field: string): void {
    if ((hours * HOUR_MS) / INTERVAL_MS[interval] > this.limits.maxBuckets) {
      throw invalid(
        field,
        `more than ${this.limits.maxBuckets} buckets: use a larger interval or a shorter range`,
      );
    }
  }
}
