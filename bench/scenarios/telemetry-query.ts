import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { closedLoop, openLoop } from '../src/load.js';
import { below } from '../src/report.js';
import { round2 } from '../src/stats.js';
import { orgAuthHeaders } from '../src/auth.js';
import type { Scenario } from './scenario.js';

const DB = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/conduit';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const STEP = 10_000;
const METRICS = ['m0', 'm1', 'm2'];

/** Loads the data set once (reused by later runs with the same size): raw points by COPY, then rollups. */
async function load(db: pg.Client, org: string, devices: number, days: number, end: number): Promise<number> {
  const start = end - days * DAY;
  const expected = devices * METRICS.length * ((days * DAY) / STEP);
  const have = Number(
    (
      await db.query('SELECT coalesce(sum(count), 0) AS n FROM telemetry.points_hourly WHERE org_id = $1', [
        org,
      ])
    ).rows[0].n,
  );
  if (have === expected) return 0;
  for (const table of ['points', 'points_hourly', 'points_5m', 'latest']) {
    await db.query(`DELETE FROM telemetry.${table} WHERE org_id = $1`, [org]);
  }
  for (let day = Math.floor(start / DAY) * DAY; day < end + DAY; day += DAY) {
    const name = `points_${new Date(day).toISOString().slice(0, 10).replaceAll('-', '')}`;
    const to = new Date(day + DAY).toISOString();
    await db.query(
      `CREATE TABLE IF NOT EXISTS telemetry.${name} PARTITION OF telemetry.points FOR VALUES FROM ('${new Date(day).toISOString()}') TO ('${to}')`,
    );
  }
  const t0 = performance.now();
  const rows = async function* () {
    for (let d = 0; d < devices; d++) {
      const lines: string[] = [];
      for (const metric of METRICS) {
        for (let ts = start; ts < end; ts += STEP) {
          const value = Math.round((20 + 5 * Math.sin(ts / HOUR) + d) * 100) / 100;
          lines.push(`${org}\td${d}\t${metric}\t${new Date(ts).toISOString()}\t${value}\n`);
        }
      }
      yield lines.join('');
    }
  };
  await pipeline(
    Readable.from(rows()),
    db.query(copyFrom('COPY telemetry.points (org_id, device_id, metric, ts, value) FROM STDIN')),
  );
  await db.query(
    `INSERT INTO telemetry.points_hourly (org_id, device_id, metric, hour, count, sum, min, max)
     SELECT org_id, device_id, metric, date_trunc('hour', ts, 'UTC'), count(*), sum(value), min(value), max(value)
       FROM telemetry.points WHERE org_id = $1 GROUP BY 1, 2, 3, 4`,
    [org],
  );
  await db.query(
    `INSERT INTO telemetry.points_5m (org_id, device_id, metric, bucket, count, sum, min, max)
     SELECT org_id, device_id, metric, date_bin('5 minutes', ts, '2000-01-01T00:00:00Z'), count(*), sum(value),
            min(value), max(value)
       FROM telemetry.points WHERE org_id = $1 GROUP BY 1, 2, 3, 4`,
    [org],
  );
  await db.query('ANALYZE telemetry.points');
  await db.query('ANALYZE telemetry.points_5m');
  return (performance.now() - t0) / 1000;
}

/**
 * Reads over a loaded history: 1-hour raw windows and 1-day 5-minute buckets of random
 * (device, metric, window), each at a fixed rate (latency) and in a closed loop (throughput).
 */
export const telemetryQuery: Scenario = {
  name: 'telemetry-query',
  description: 'p50/p95/p99 of 1 h raw and 1 d 5 m-bucket queries over a 7-day history at a fixed rate',
  options: {
    devices: 'devices in the data set (1000)',
    days: 'days of history at 10 s resolution (7)',
    rate: 'requests/s of the fixed-rate phases (200)',
    duration: 'seconds per phase (10)',
    connections: 'closed-loop connections (32)',
  },
  async run(ctx) {
    const devices = ctx.flag('devices', 1000);
    const days = ctx.flag('days', 7);
    const rate = ctx.flag('rate', 200);
    const duration = ctx.flag('duration', 10);
    const connections = ctx.flag('connections', 32);
    const org = `bench-query-${devices}x${days}`;
    const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    const db = new pg.Client({ connectionString: DB });
    await db.connect();
    let loadS: number;
    try {
      loadS = await load(db, org, devices, days, end);
    } finally {
      await db.end();
    }
    const orgHeaders = await orgAuthHeaders(ctx.gatewayUrl, ctx.headers, org);
    const pick = (n: number) => Math.floor(Math.random() * n);
    const iso = (ms: number) => new Date(ms).toISOString();
    const rawPaths = Array.from({ length: 2000 }, () => {
      const from = end - (1 + pick(days * 24 - 1)) * HOUR;
      return `/api/v1/telemetry/d${pick(devices)}?metric=${METRICS[pick(3)]}&from=${iso(from)}&to=${iso(from + HOUR)}&limit=10000`;
    });
    const bucketPaths = Array.from({ length: 2000 }, () => {
      const from = end - (1 + pick(days - 1)) * DAY - pick(24) * HOUR;
      return `/api/v1/telemetry/d${pick(devices)}?metric=${METRICS[pick(3)]}&from=${iso(from)}&to=${iso(from + DAY)}&interval=5m&agg=avg,min,max`;
    });
    const target = (paths: string[]) => ({
      url: `${ctx.gatewayUrl}${paths[0]}`,
      paths,
      headers: orgHeaders,
    });
    const check = await fetch(`${ctx.gatewayUrl}${rawPaths[0]}`, { headers: orgHeaders });
    const sample = (await check.json()) as { data?: unknown[] };
    if (check.status !== 200 || (sample.data?.length ?? 0) !== HOUR / STEP) {
      throw new Error(
        `a 1 h raw query answered ${check.status} with ${sample.data?.length} points, expected ${HOUR / STEP}`,
      );
    }
    const raw = await openLoop(target(rawPaths), { rate, durationS: duration, warmupS: 1 });
    const buckets = await openLoop(target(bucketPaths), { rate, durationS: duration, warmupS: 1 });
    const rawClosed = await closedLoop(target(rawPaths), connections, duration);
    const bucketClosed = await closedLoop(target(bucketPaths), connections, duration);
    const metrics = {
      rows_loaded: devices * METRICS.length * ((days * DAY) / STEP),
      load_s: round2(loadS),
      raw_1h_p50_ms: round2(raw.latency.p50),
      raw_1h_p95_ms: round2(raw.latency.p95),
      raw_1h_p99_ms: round2(raw.latency.p99),
      raw_1h_errors: raw.errors,
      bucketed_1d_p50_ms: round2(buckets.latency.p50),
      bucketed_1d_p95_ms: round2(buckets.latency.p95),
      bucketed_1d_p99_ms: round2(buckets.latency.p99),
      bucketed_1d_errors: buckets.errors,
      raw_1h_closed_rps: round2(rawClosed.rps),
      bucketed_1d_closed_rps: round2(bucketClosed.rps),
    };
    return {
      params: {
        devices,
        days,
        metrics: METRICS.length,
        resolution_s: STEP / 1000,
        rate,
        duration_s: duration,
        connections,
        org,
      },
      metrics,
      goals: {
        raw_1h_p95_ms: below(metrics.raw_1h_p95_ms, 25),
        bucketed_1d_p95_ms: below(metrics.bucketed_1d_p95_ms, 60),
      },
    };
  },
};
