import { Injectable } from '@nestjs/common';
import type { Aggregate, BucketRow, Interval } from '@conduit/contracts';
import { rawPool, type TenantScope } from '@conduit/database';
import { DataSource } from 'typeorm';

export const INTERVAL_SQL: Readonly<Record<Interval, string>> = {
  '1m': '1 minute',
  '5m': '5 minutes',
  '15m': '15 minutes',
  '1h': '1 hour',
  '1d': '1 day',
};

/** How each aggregate is computed from raw points and from hourly rollups. */
const AGG_RAW: Readonly<Record<Aggregate, string>> = {
  avg: 'avg(value)',
  min: 'min(value)',
  max: 'max(value)',
  count: 'count(*)::float8',
  sum: 'sum(value)',
};
const AGG_ROLLUP: Readonly<Record<Aggregate, string>> = {
  avg: 'sum(sum) / nullif(sum(count), 0)',
  min: 'min(min)',
  max: 'max(max)',
  count: 'sum(count)::float8',
  sum: 'sum(sum)',
};

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Raw points, or one of the two rollups (exact for count, sum, min, max and avg). */
export type BucketSource = 'points' | 'points_5m' | 'points_hourly';
const ROLLUP_TIME: Readonly<Record<BucketSource, string>> = {
  points: 'ts',
  points_5m: 'bucket',
  points_hourly: 'hour',
};

export interface BucketQuery {
  readonly deviceIds: readonly string[];
  readonly metrics?: readonly string[];
  readonly from: Date;
  readonly to: Date;
  readonly interval: Interval;
  readonly aggregates: readonly Aggregate[];
  readonly source: BucketSource;
  readonly withDevice: boolean;
}

export interface RawQuery {
  readonly deviceId: string;
  readonly metric?: string;
  readonly from: Date;
  readonly to: Date;
  readonly limit: number;
  readonly after?: { readonly ts: string; readonly metric: string };
}

/** Reads of telemetry; every method takes the tenant. Hot paths use the raw pool. */
@Injectable()
export class TelemetryQueriesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Raw points in (ts, metric) order, one extra row to know whether more follow. */
  async raw(scope: TenantScope, q: RawQuery): Promise<{ metric: string; ts: string; value: number }[]> {
    const values: unknown[] = [scope.orgId, q.deviceId, q.from, q.to];
    const where = ['org_id = $1', 'device_id = $2', 'ts >= $3', 'ts < $4'];
    if (q.metric !== undefined) {
      values.push(q.metric);
      where.push(`metric = $${values.length}`);
    }
    if (q.after) {
      values.push(q.after.ts, q.after.metric);
      where.push(`(ts, metric) > ($${values.length - 1}::timestamptz, $${values.length})`);
    }
    values.push(q.limit + 1);
    const { rows } = await rawPool(this.dataSource).query<{ metric: string; ts: string; value: number }>(
      `SELECT metric, ${iso('ts')} AS ts, value FROM telemetry.points
        WHERE ${where.join(' AND ')} ORDER BY ts, metric LIMIT $${values.length}`,
      values,
    );
    return rows;
  }

  /** Buckets of `interval` per (device,) metric, from raw points or a rollup. */
  async buckets(scope: TenantScope, q: BucketQuery): Promise<BucketRow[]> {
    const rollup = q.source !== 'points';
    const time = ROLLUP_TIME[q.source];
    const aggs = (rollup ? AGG_ROLLUP : AGG_RAW) as Readonly<Record<string, string>>;
    const values: unknown[] = [scope.orgId, [...q.deviceIds], q.from, q.to];
    const where = ['org_id = $1', 'device_id = ANY($2::text[])', `${time} >= $3`, `${time} < $4`];
    if (q.metrics) {
      values.push([...q.metrics]);
      where.push(`metric = ANY($${values.length}::text[])`);
    }
    const bucket = `date_bin('${INTERVAL_SQL[q.interval]}'::interval, ${time}, '2000-01-01T00:00:00Z'::timestamptz)`;
    const device = q.withDevice ? 'device_id, ' : '';
    const { rows } = await rawPool(this.dataSource).query<BucketRow>(
      `SELECT ${iso('b')} AS bucket, ${device}metric, ${q.aggregates.map((a) => `${a}`).join(', ')}
         FROM (SELECT ${bucket} AS b, ${device}metric, ${q.aggregates.map((a) => `${aggs[a]} AS ${a}`).join(', ')}
                 FROM telemetry.${q.source}
                WHERE ${where.join(' AND ')}
                GROUP BY 1, ${q.withDevice ? '2, 3' : '2'}) s
        ORDER BY b, ${device}metric`,
      values,
    );
    return rows;
  }

  async latest(
    scope: TenantScope,
    deviceId: string,
  ): Promise<{ metric: string; ts: string; value: number }[]> {
    const { rows } = await rawPool(this.dataSource).query<{ metric: string; ts: string; value: number }>(
      `SELECT metric, ${iso('ts')} AS ts, value FROM telemetry.latest WHERE org_id = $1 AND device_id = $2 ORDER BY metric`,
      [scope.orgId, deviceId],
    );
    return rows;
  }
}
