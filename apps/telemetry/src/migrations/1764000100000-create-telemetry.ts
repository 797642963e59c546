import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTelemetry1764000100000 implements MigrationInterface {
  name = 'CreateTelemetry1764000100000';

  async up(q: QueryRunner): Promise<void> {
    // Raw points, one partition per UTC day (created ahead and dropped after retention by the
    // service). The index serves every read: one device's metric over a time range. It is not
    // unique: redelivery is made a no-op per message (telemetry.consumed), which keeps the
    // write path free of a per-row uniqueness check.
    await q.query(`
      CREATE TABLE telemetry.points (
        org_id    text             NOT NULL,
        device_id text             NOT NULL,
        metric    text             NOT NULL,
        ts        timestamptz      NOT NULL,
        value     double precision NOT NULL
      ) PARTITION BY RANGE (ts)`);
    await q.query(`CREATE INDEX points_lookup_idx ON telemetry.points (org_id, device_id, metric, ts)`);
    // Late or far-future points land here instead of failing the batch.
    await q.query(`CREATE TABLE telemetry.points_default PARTITION OF telemetry.points DEFAULT`);

    // Stream sequences already written, inserted in the same transaction as their rows.
    await q.query(`
      CREATE TABLE telemetry.consumed (
        stream_seq  bigint      PRIMARY KEY,
        consumed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX consumed_at_idx ON telemetry.consumed (consumed_at)`);

    await q.query(`
      CREATE TABLE telemetry.latest (
        org_id    text             NOT NULL,
        device_id text             NOT NULL,
        metric    text             NOT NULL,
        ts        timestamptz      NOT NULL,
        value     double precision NOT NULL,
        PRIMARY KEY (org_id, device_id, metric)
      )`);

    // Our continuous aggregate: maintained as batches land, late points update their hour.
    await q.query(`
      CREATE TABLE telemetry.points_hourly (
        org_id    text             NOT NULL,
        device_id text             NOT NULL,
        metric    text             NOT NULL,
        hour      timestamptz      NOT NULL,
        count     bigint           NOT NULL,
        sum       double precision NOT NULL,
        min       double precision NOT NULL,
        max       double precision NOT NULL,
        PRIMARY KEY (org_id, device_id, metric, hour)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE telemetry.points_hourly, telemetry.latest, telemetry.consumed, telemetry.points`,
    );
  }
}
