import { Injectable } from '@nestjs/common';
import type { TenantScope } from '@conduit/database';
import type { Anomaly, AnomaliesQuery } from '@conduit/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import type { DetectorState } from './anomaly-detector.service.js';
import type { RuleState } from '../rules/rule-engine.service.js';

/** Everything analytics keeps per (org, device, metric): detector statistics and rule states by rule id. */
export interface SeriesState {
  d: DetectorState;
  /** Keyed by rule id, or `anomaly` for the detector's alerts. */
  r: Record<string, RuleState>;
}

export interface SeriesKey {
  readonly orgId: string;
  readonly deviceId: string;
  readonly metric: string;
}

/** A row locked for the batch: `state` is set only when the caller's cached version is stale. */
export interface LockedSeries extends SeriesKey {
  readonly version: number;
  readonly state: SeriesState | null;
}

export interface NewAnomaly extends SeriesKey {
  readonly ts: number;
  readonly value: number;
  readonly score: number;
  readonly kind: 'spike' | 'drift';
  readonly expected: number;
  readonly low: number;
  readonly high: number;
}

/**
 * The tables of the streaming path, used inside one transaction per batch: the consumed-message
 * ledger, the series states (locked in key order, so replicas never deadlock), anomalies and the
 * per-minute ingest counters. Bulk statements over unnest: one round trip each, whatever the batch size.
 */
@Injectable()
export class SeriesRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Records the messages' stream identities; returns the ones not recorded before (`epoch:seq`). */
  async claim(tx: EntityManager, ids: readonly { epoch: number; seq: number }[]): Promise<Set<string>> {
    const rows: { stream_epoch: string; stream_seq: string }[] = await tx.query(
      `INSERT INTO analytics.consumed (stream_epoch, stream_seq)
       SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING RETURNING stream_epoch, stream_seq`,
      [ids.map((i) => i.epoch), ids.map((i) => i.seq)],
    );
    return new Set(rows.map((r) => `${r.stream_epoch}:${r.stream_seq}`));
  }

  /**
   * Locks the series rows of a batch (in key order, creating missing ones) and returns each one's
   * version, with its state only where `versions` (what the caller holds in memory, 0 for nothing)
   * is not current. A null state with version 0 is a series nobody has written yet.
   */
  async lock(
    tx: EntityManager,
    keys: readonly SeriesKey[],
    versions: readonly number[],
  ): Promise<LockedSeries[]> {
    if (keys.length === 0) return [];
    const columns = [keys.map((k) => k.orgId), keys.map((k) => k.deviceId), keys.map((k) => k.metric)];
    // New series get a placeholder row first (version 0, overwritten by `save` in this same
    // transaction), so that they are locked too: two replicas meeting a new series serialise on it.
    await tx.query(
      `INSERT INTO analytics.series_state (org_id, device_id, metric, state, version, last_seen_at)
       SELECT o, d, m, 'null'::jsonb, 0, now() FROM unnest($1::text[], $2::text[], $3::text[]) AS k(o, d, m)
        ORDER BY 1, 2, 3
       ON CONFLICT DO NOTHING`,
      columns,
    );
    const rows: {
      org_id: string;
      device_id: string;
      metric: string;
      version: string;
      state: SeriesState | null;
    }[] = await tx.query(
      `SELECT s.org_id, s.device_id, s.metric, s.version,
                CASE WHEN s.version <> k.v THEN s.state END AS state
           FROM analytics.series_state s
           JOIN unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS k(o, d, m, v)
             ON s.org_id = k.o AND s.device_id = k.d AND s.metric = k.m
          ORDER BY s.org_id, s.device_id, s.metric
          FOR UPDATE OF s`,
      [...columns, versions],
    );
    return rows.map((r) => ({
      orgId: r.org_id,
      deviceId: r.device_id,
      metric: r.metric,
      version: Number(r.version),
      state: r.state,
    }));
  }

  /** Writes the batch's series states; returns the new version of each (same order as `keys`). */
  async save(
    tx: EntityManager,
    rows: readonly { key: SeriesKey; state: SeriesState; lastSeen: Date }[],
  ): Promise<Map<string, number>> {
    const saved: { o: string; d: string; m: string; version: string }[] = await tx.query(
      `INSERT INTO analytics.series_state AS s (org_id, device_id, metric, state, last_seen_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::timestamptz[])
        ORDER BY 1, 2, 3
       ON CONFLICT (org_id, device_id, metric) DO UPDATE
         SET state = EXCLUDED.state, version = s.version + 1,
             last_seen_at = GREATEST(s.last_seen_at, EXCLUDED.last_seen_at)
       RETURNING s.org_id AS o, s.device_id AS d, s.metric AS m, s.version`,
      [
        rows.map((r) => r.key.orgId),
        rows.map((r) => r.key.deviceId),
        rows.map((r) => r.key.metric),
        rows.map((r) => JSON.stringify(r.state)),
        rows.map((r) => r.lastSeen.toISOString()),
      ],
    );
    return new Map(saved.map((r) => [`${r.o}|${r.d}|${r.m}`, Number(r.version)]));
  }

  async addAnomalies(tx: EntityManager, anomalies: readonly NewAnomaly[]): Promise<void> {
    if (anomalies.length === 0) return;
    await tx.query(
      `INSERT INTO analytics.anomalies (org_id, device_id, metric, ts, value, score, kind, expected, expected_low, expected_high)
       SELECT o, d, m, to_timestamp(t / 1000.0), v, s, k, e, l, h
         FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[], $7::text[],
                     $8::float8[], $9::float8[], $10::float8[]) AS x(o, d, m, t, v, s, k, e, l, h)`,
      [
        anomalies.map((a) => a.orgId),
        anomalies.map((a) => a.deviceId),
        anomalies.map((a) => a.metric),
        anomalies.map((a) => a.ts),
        anomalies.map((a) => a.value),
        anomalies.map((a) => a.score),
        anomalies.map((a) => a.kind),
        anomalies.map((a) => a.expected),
        anomalies.map((a) => a.low),
        anomalies.map((a) => a.high),
      ],
    );
  }

  /** Adds consumed points to the per-org, per-minute counters. */
  async countIngest(tx: EntityManager, counts: ReadonlyMap<string, number>): Promise<void> {
    if (counts.size === 0) return;
    const orgs: string[] = [];
    const minutes: number[] = [];
    const points: number[] = [];
    for (const [key, n] of counts) {
      const [org, minute] = key.split('|') as [string, string];
      orgs.push(org);
      minutes.push(Number(minute));
      points.push(n);
    }
    await tx.query(
      `INSERT INTO analytics.ingest_minutes AS i (org_id, minute, points)
       SELECT o, to_timestamp(m / 1000.0), n FROM unnest($1::text[], $2::float8[], $3::bigint[]) AS x(o, m, n) ORDER BY 1, 2
       ON CONFLICT (org_id, minute) DO UPDATE SET points = i.points + EXCLUDED.points`,
      [orgs, minutes, points],
    );
  }

  /** Anomalies of an org in [from, to], newest first. */
  async anomalies(scope: TenantScope, q: AnomaliesQuery): Promise<Anomaly[]> {
    const params: unknown[] = [scope.orgId, q.from, q.to];
    const where = ['org_id = $1', 'ts >= $2', 'ts <= $3'];
    if (q.device) {
      params.push(q.device);
      where.push(`device_id = $${params.length}`);
    }
    if (q.metric) {
      params.push(q.metric);
      where.push(`metric = $${params.length}`);
    }
    params.push(q.limit);
    const rows: {
      device_id: string;
      metric: string;
      ts: Date;
      value: number;
      score: number;
      kind: 'spike' | 'drift';
      expected: number;
      expected_low: number;
      expected_high: number;
    }[] = await this.dataSource.query(
      `SELECT device_id, metric, ts, value, score, kind, expected, expected_low, expected_high
         FROM analytics.anomalies WHERE ${where.join(' AND ')} ORDER BY ts DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({ ...r, ts: r.ts.toISOString() }));
  }

  /** Devices with the most anomalies since `since`. */
  async topAnomalous(
    scope: TenantScope,
    since: Date,
    limit: number,
  ): Promise<{ device_id: string; anomalies: number }[]> {
    return this.dataSource.query(
      `SELECT device_id, count(*)::int AS anomalies FROM analytics.anomalies
        WHERE org_id = $1 AND ts >= $2 GROUP BY device_id ORDER BY 2 DESC, 1 LIMIT $3`,
      [scope.orgId, since, limit],
    );
  }

  /** Points per minute of arrival over the last `minutes` whole minutes (missing minutes: 0). */
  async pointsPerMinute(scope: TenantScope, minutes: number): Promise<{ minute: string; points: number }[]> {
    const rows: { minute: Date; points: string }[] = await this.dataSource.query(
      `SELECT g.minute, COALESCE(i.points, 0) AS points
         FROM generate_series(date_trunc('minute', now()) - make_interval(mins => $2 - 1), date_trunc('minute', now()),
                              interval '1 minute') AS g(minute)
         LEFT JOIN analytics.ingest_minutes i ON i.org_id = $1 AND i.minute = g.minute
        ORDER BY g.minute`,
      [scope.orgId, minutes],
    );
    return rows.map((r) => ({ minute: r.minute.toISOString(), points: Number(r.points) }));
  }

  /** Deletes ledger rows past any redelivery and data past retention. */
  async prune(retentionDays: number): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM analytics.consumed WHERE consumed_at < now() - interval '24 hours'`,
    );
    await this.dataSource.query(
      `DELETE FROM analytics.anomalies WHERE ts < now() - make_interval(days => $1)`,
      [retentionDays],
    );
    await this.dataSource.query(
      `DELETE FROM analytics.ingest_minutes WHERE minute < now() - make_interval(days => $1)`,
      [retentionDays],
    );
  }
}
