import { randomUUID } from 'node:crypto';
import { createDataSource, runMigrations } from '@conduit/database';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TELEMETRY_SCHEMA, telemetryMigrations } from '../migrations/index.js';
import { PartitionsService } from '../partitions/partitions.service.js';
import { PointsRepository, type PointBatch } from './points.repository.js';

const PGBOUNCER = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:6432/conduit_test';
const DIRECT = process.env['MIGRATION_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/conduit_test';
const HOUR = 3_600_000;

describe(PointsRepository.name, () => {
  let dataSource: DataSource;
  let sut: PointsRepository;
  const orgId = `org-${randomUUID().slice(0, 8)}`;
  // A stream epoch of its own: this run's sequences cannot collide with any other's.
  const epoch = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  let seq = 1;
  const base = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
  const batch = (deviceId: string, points: [string, number, number][]): PointBatch => ({
    epoch,
    seq: seq++,
    orgId,
    deviceId,
    points: points.map(([metric, ts, value]) => ({ metric, ts, value })),
  });
  const count = async (sql: string) =>
    Number(((await dataSource.query(sql, [orgId])) as { n: string }[])[0]?.n);

  beforeAll(async () => {
    await runMigrations({ url: DIRECT, schema: TELEMETRY_SCHEMA, migrations: telemetryMigrations });
    dataSource = createDataSource({
      url: PGBOUNCER,
      schema: TELEMETRY_SCHEMA,
      poolMax: 4,
      applicationName: 'points-int-spec',
    });
    await dataSource.initialize();
    sut = new PointsRepository(dataSource);
    await new PartitionsService(dataSource, sut, { retentionDays: 30, daysAhead: 2 }).maintain();
  });

  afterAll(async () => {
    for (const table of ['points', 'latest', 'points_hourly', 'points_5m']) {
      await dataSource.query(`DELETE FROM telemetry.${table} WHERE org_id = $1`, [orgId]);
    }
    await dataSource.destroy();
  });

  it('writes points, and a redelivered message changes nothing', async () => {
    const first = batch('dev-a', [
      ['temp', base + 1_000, 20],
      ['temp', base + 2_000, 22],
      ['hum', base + 1_000, 40],
    ]);
    const second = batch('dev-b', [['temp', base + 5_000, 5]]);
    expect(await sut.write([first, second])).toEqual({ messages: 2, duplicates: 0, points: 4 });
    // A crash after commit and before the ack redelivers the same stream sequences.
    expect(await sut.write([first, second])).toEqual({ messages: 0, duplicates: 2, points: 0 });
    expect(await count(`SELECT count(*) AS n FROM telemetry.points WHERE org_id = $1`)).toBe(4);
    expect(await count(`SELECT sum(count) AS n FROM telemetry.points_hourly WHERE org_id = $1`)).toBe(4);
    expect(await count(`SELECT sum(count) AS n FROM telemetry.points_5m WHERE org_id = $1`)).toBe(4);
  });

  it('stores names, times and values exactly as sent: ISO times, quotes and backslashes, tiny and huge numbers', async () => {
    const odd = 'we"ird\\name';
    const message: PointBatch = {
      epoch,
      seq: seq++,
      orgId,
      deviceId: 'dev-odd',
      points: [
        { metric: odd, ts: new Date(base + 1_500).toISOString(), value: 1e-7 },
        { metric: 'NULL', ts: base + 2_500, value: -1.5e21 },
      ],
    };
    expect(await sut.write([message])).toEqual({ messages: 1, duplicates: 0, points: 2 });
    const rows = (await dataSource.query(
      `SELECT metric, (extract(epoch FROM ts) * 1000)::bigint AS ms, value FROM telemetry.points
        WHERE org_id = $1 AND device_id = 'dev-odd' ORDER BY ts`,
      [orgId],
    )) as { metric: string; ms: string; value: number }[];
    expect(rows.map((r) => [r.metric, Number(r.ms), r.value])).toEqual([
      [odd, base + 1_500, 1e-7],
      ['NULL', base + 2_500, -1.5e21],
    ]);
  });

  it('writes a message once when its redelivered copy is in the same batch', async () => {
    // Redelivered after the ack wait while the first copy still waited in the writer's buffer:
    // both copies reach one write.
    const message = batch('dev-twice', [
      ['temp', base + 7_000, 7],
      ['temp', base + 8_000, 8],
    ]);
    const other = batch('dev-twice', [['temp', base + 9_000, 9]]);
    expect(await sut.write([message, other, message])).toEqual({ messages: 2, duplicates: 1, points: 3 });
    const n = `SELECT count(*) AS n FROM telemetry.points WHERE org_id = $1 AND device_id = 'dev-twice'`;
    expect(await count(n)).toBe(3);
  });

  it('writes a message whose sequence was seen in an earlier life of the stream', async () => {
    const old = { ...batch('dev-e', [['temp', base + 1_000, 1]]), epoch: epoch + 100, seq: 1 };
    const recreated = { ...batch('dev-e', [['temp', base + 2_000, 2]]), epoch: epoch + 101, seq: 1 };
    expect((await sut.write([old])).points).toBe(1);
    expect((await sut.write([recreated])).points).toBe(1);
    expect((await sut.write([old, recreated])).duplicates).toBe(2);
  });

  it('keeps the newest value as latest, even when an older point arrives later', async () => {
    await sut.write([batch('dev-c', [['temp', base + 10_000, 30]])]);
    await sut.write([batch('dev-c', [['temp', base + 9_000, 29]])]);
    const latest = (await dataSource.query(
      `SELECT value, ts FROM telemetry.latest WHERE org_id = $1 AND device_id = 'dev-c' AND metric = 'temp'`,
      [orgId],
    )) as { value: number; ts: Date }[];
    expect(latest).toEqual([{ value: 30, ts: new Date(base + 10_000) }]);
  });

  it('updates the hourly rollup of a late point’s own hour, agreeing with a recount from raw points', async () => {
    await sut.write([
      batch('dev-d', [
        ['p', base + 10 * 60_000, 10],
        ['p', base + HOUR + 60_000, 100],
      ]),
    ]);
    await sut.write([batch('dev-d', [['p', base + 20 * 60_000, 30]])]); // late, for the first hour
    const rollup = (await dataSource.query(
      `SELECT hour, count::int, sum, min, max FROM telemetry.points_hourly
        WHERE org_id = $1 AND device_id = 'dev-d' ORDER BY hour`,
      [orgId],
    )) as { hour: Date; count: number; sum: number; min: number; max: number }[];
    const recount = (await dataSource.query(
      `SELECT date_trunc('hour', ts, 'UTC') AS hour, count(*)::int AS count, sum(value) AS sum, min(value) AS min, max(value) AS max
         FROM telemetry.points WHERE org_id = $1 AND device_id = 'dev-d' GROUP BY 1 ORDER BY 1`,
      [orgId],
    )) as typeof rollup;
    expect(rollup).toEqual(recount);
    expect(rollup[0]).toMatchObject({ hour: new Date(base), count: 2, sum: 40, min: 10, max: 30 });
    // The 5-minute rollup too: each point in its own bucket, the late one included.
    const fiveMinutes = (await dataSource.query(
      `SELECT bucket, count::int, sum, min, max FROM telemetry.points_5m
        WHERE org_id = $1 AND device_id = 'dev-d' ORDER BY bucket`,
      [orgId],
    )) as { bucket: Date; count: number; sum: number; min: number; max: number }[];
    const recount5m = (await dataSource.query(
      `SELECT date_bin('5 minutes', ts, '2000-01-01T00:00:00Z') AS bucket, count(*)::int AS count, sum(value) AS sum,
              min(value) AS min, max(value) AS max
         FROM telemetry.points WHERE org_id = $1 AND device_id = 'dev-d' GROUP BY 1 ORDER BY 1`,
      [orgId],
    )) as typeof fiveMinutes;
    expect(fiveMinutes).toEqual(recount5m);
    expect(fiveMinutes).toHaveLength(3);
  });

  it('rolls up interleaved metrics, out-of-order times and several devices and hours in one batch as a recount does', async () => {
    const points = (metricA: string, metricB: string): [string, number, number][] =>
      [7, 2, 65, 1, 130, 64, 3, 129].flatMap((minute, i) => [
        [metricA, base + minute * 60_000 + i, i * 3 - 5] as [string, number, number],
        [metricB, base + (200 - minute) * 60_000 + i, 100 - i] as [string, number, number],
      ]);
    await sut.write([
      batch('dev-m1', points('x', 'y')),
      batch('dev-m2', points('y', 'x')),
      batch('dev-m1', points('y', 'z')),
    ]);
    const devices = ['dev-m1', 'dev-m2'];
    const rows = (sql: string) => dataSource.query(sql, [orgId, devices]);
    const hourly =
      await rows(`SELECT device_id, metric, hour, count::int, sum, min, max FROM telemetry.points_hourly
        WHERE org_id = $1 AND device_id = ANY($2) ORDER BY 1, 2, 3`);
    expect(hourly).toEqual(
      await rows(`SELECT device_id, metric, date_trunc('hour', ts, 'UTC') AS hour, count(*)::int AS count, sum(value) AS sum,
                         min(value) AS min, max(value) AS max
                    FROM telemetry.points WHERE org_id = $1 AND device_id = ANY($2) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`),
    );
    expect(hourly.length).toBeGreaterThan(6);
    const fiveMinutes =
      await rows(`SELECT device_id, metric, bucket, count::int, sum, min, max FROM telemetry.points_5m
        WHERE org_id = $1 AND device_id = ANY($2) ORDER BY 1, 2, 3`);
    expect(fiveMinutes).toEqual(
      await rows(`SELECT device_id, metric, date_bin('5 minutes', ts, '2000-01-01T00:00:00Z') AS bucket, count(*)::int AS count,
                         sum(value) AS sum, min(value) AS min, max(value) AS max
                    FROM telemetry.points WHERE org_id = $1 AND device_id = ANY($2) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`),
    );
    const latest = await rows(`SELECT device_id, metric, ts, value FROM telemetry.latest
        WHERE org_id = $1 AND device_id = ANY($2) ORDER BY 1, 2`);
    expect(latest).toEqual(
      await rows(`SELECT DISTINCT ON (device_id, metric) device_id, metric, ts, value FROM telemetry.points
                   WHERE org_id = $1 AND device_id = ANY($2) ORDER BY device_id, metric, ts DESC`),
    );
    expect(latest).toHaveLength(5);
  });

  it('in per-point mode drops points already stored, from raw points and rollups alike, even from concurrent writers', async () => {
    const pointwise = new PointsRepository(dataSource, 'point');
    const device = 'dev-p';
    const perDevice = (sql: string) =>
      dataSource.query(sql, [orgId, device]) as Promise<{ n: number; s: number }[]>;
    await pointwise.write([
      batch(device, [
        ['v', base + 1_000, 1],
        ['v', base + 2_000, 2],
        ['v', base + 2_000, 2], // the same point twice in one message
      ]),
    ]);
    // Re-sent outside the duplicate window: a new stream sequence, the same points plus one new.
    const again = await pointwise.write([
      batch(device, [
        ['v', base + 1_000, 1],
        ['v', base + 2_000, 2],
        ['v', base + 3_000, 3],
      ]),
    ]);
    expect(again.messages).toBe(1);
    // Two writers racing with the same new points under different sequences.
    await Promise.all([
      pointwise.write([batch(device, [['v', base + 4_000, 4]])]),
      pointwise.write([batch(device, [['v', base + 4_000, 4]])]),
    ]);
    const [raw] = await perDevice(
      `SELECT count(*)::int AS n, sum(value) AS s FROM telemetry.points WHERE org_id = $1 AND device_id = $2`,
    );
    const [rolled] = await perDevice(
      `SELECT sum(count)::int AS n, sum(sum) AS s FROM telemetry.points_hourly WHERE org_id = $1 AND device_id = $2`,
    );
    const [rolled5m] = await perDevice(
      `SELECT sum(count)::int AS n, sum(sum) AS s FROM telemetry.points_5m WHERE org_id = $1 AND device_id = $2`,
    );
    expect(raw).toEqual({ n: 4, s: 10 });
    expect(rolled).toEqual({ n: 4, s: 10 });
    expect(rolled5m).toEqual({ n: 4, s: 10 });
    // The default mode would have stored the re-sent points again.
    expect(
      await new PointsRepository(dataSource).write([batch(device, [['v', base + 1_000, 1]])]),
    ).toMatchObject({ points: 1 });
  });
});

describe(PartitionsService.name, () => {
  it('creates daily partitions ahead once, and drops days past retention', async () => {
    const dataSource = createDataSource({
      url: PGBOUNCER,
      schema: TELEMETRY_SCHEMA,
      poolMax: 2,
      applicationName: 'partitions-int-spec',
    });
    await dataSource.initialize();
    try {
      const sut = new PartitionsService(dataSource, new PointsRepository(dataSource), {
        retentionDays: 30,
        daysAhead: 2,
      });
      await sut.maintain();
      const again = await sut.maintain();
      expect(again.created).toEqual([]);
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
      const names = (
        (await dataSource.query(
          `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'telemetry.points'::regclass`,
        )) as { relname: string }[]
      ).map((r) => r.relname);
      expect(names).toContain(`points_${tomorrow}`);

      await dataSource.query(
        `CREATE TABLE IF NOT EXISTS telemetry.points_20000101 PARTITION OF telemetry.points FOR VALUES FROM ('2000-01-01') TO ('2000-01-02')`,
      );
      const result = await sut.maintain();
      expect(result.dropped).toContain('points_20000101');
    } finally {
      await dataSource.destroy();
    }
  });
});
