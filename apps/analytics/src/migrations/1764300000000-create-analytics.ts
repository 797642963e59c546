import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAnalytics1764300000000 implements MigrationInterface {
  name = 'CreateAnalytics1764300000000';

  async up(q: QueryRunner): Promise<void> {
    // TELEMETRY messages already applied, (stream creation time, sequence): written in the same
    // transaction as their effects, so a redelivered message changes nothing.
    await q.query(`
      CREATE TABLE analytics.consumed (
        stream_epoch bigint      NOT NULL,
        stream_seq   bigint      NOT NULL,
        consumed_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (stream_epoch, stream_seq)
      )`);
    await q.query(`CREATE INDEX consumed_at_idx ON analytics.consumed (consumed_at)`);

    // Detector statistics and rule-condition state per series. `version` grows with every write:
    // a replica whose in-memory copy is older reloads the row.
    await q.query(`
      CREATE TABLE analytics.series_state (
        org_id       text        NOT NULL,
        device_id    text        NOT NULL,
        metric       text        NOT NULL,
        state        jsonb       NOT NULL,
        version      bigint      NOT NULL DEFAULT 1,
        last_seen_at timestamptz NOT NULL,
        PRIMARY KEY (org_id, device_id, metric)
      )`);

    await q.query(`
      CREATE TABLE analytics.anomalies (
        org_id        text             NOT NULL,
        device_id     text             NOT NULL,
        metric        text             NOT NULL,
        ts            timestamptz      NOT NULL,
        value         double precision NOT NULL,
        score         double precision NOT NULL,
        kind          text             NOT NULL CHECK (kind IN ('spike', 'drift')),
        expected      double precision NOT NULL,
        expected_low  double precision NOT NULL,
        expected_high double precision NOT NULL,
        detected_at   timestamptz      NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX anomalies_org_ts_idx ON analytics.anomalies (org_id, ts DESC)`);
    await q.query(
      `CREATE INDEX anomalies_series_idx ON analytics.anomalies (org_id, device_id, metric, ts DESC)`,
    );

    await q.query(`
      CREATE TABLE analytics.rules (
        id                 uuid        PRIMARY KEY,
        org_id             text        NOT NULL,
        name               text        NOT NULL,
        metric             text        NOT NULL,
        scope              jsonb       NOT NULL,
        condition          jsonb       NOT NULL,
        mode               jsonb       NOT NULL,
        severity           text        NOT NULL,
        cooldown_seconds   integer     NOT NULL,
        escalation         jsonb       NOT NULL,
        auto_resolve_after integer     NOT NULL,
        enabled            boolean     NOT NULL,
        created_at         timestamptz NOT NULL,
        updated_at         timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX rules_org_idx ON analytics.rules (org_id, created_at)`);

    // source_key: the rule id, or 'anomaly' for the detector.
    await q.query(`
      CREATE TABLE analytics.alerts (
        id              uuid             PRIMARY KEY,
        org_id          text             NOT NULL,
        source          text             NOT NULL CHECK (source IN ('rule', 'anomaly')),
        source_key      text             NOT NULL,
        rule_id         uuid,
        device_id       text             NOT NULL,
        metric          text             NOT NULL,
        severity        text             NOT NULL,
        status          text             NOT NULL CHECK (status IN ('active', 'acknowledged', 'resolved')),
        message         text             NOT NULL,
        value           double precision,
        triggered_at    timestamptz      NOT NULL,
        raised_at       timestamptz      NOT NULL,
        acknowledged_at timestamptz,
        acknowledged_by text,
        resolved_at     timestamptz,
        resolved_by     text
      )`);
    // No storms: one open alert per (source, device, metric).
    await q.query(`
      CREATE UNIQUE INDEX alerts_one_open_idx ON analytics.alerts (org_id, source_key, device_id, metric)
       WHERE status <> 'resolved'`);
    await q.query(`
      CREATE INDEX alerts_open_by_device_idx ON analytics.alerts (org_id, device_id, raised_at DESC)
       WHERE status <> 'resolved'`);
    await q.query(`
      CREATE INDEX alerts_open_by_severity_idx ON analytics.alerts (org_id, severity, raised_at DESC)
       WHERE status <> 'resolved'`);
    await q.query(`CREATE INDEX alerts_org_raised_idx ON analytics.alerts (org_id, raised_at DESC)`);

    await q.query(`
      CREATE TABLE analytics.outbox (
        id         bigserial   PRIMARY KEY,
        subject    text        NOT NULL,
        msg_id     text        NOT NULL,
        payload    jsonb       NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    // Our projection of device-control's registry (from DEVICE events): rule scopes and summaries.
    await q.query(`
      CREATE TABLE analytics.devices (
        org_id     text        NOT NULL,
        device_id  text        NOT NULL,
        type       text,
        site       text,
        tags       text[]      NOT NULL DEFAULT '{}',
        status     text        NOT NULL DEFAULT 'unknown',
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (org_id, device_id)
      )`);

    // Points consumed per org and minute of arrival (JetStream time), for the summary.
    await q.query(`
      CREATE TABLE analytics.ingest_minutes (
        org_id text        NOT NULL,
        minute timestamptz NOT NULL,
        points bigint      NOT NULL,
        PRIMARY KEY (org_id, minute)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE analytics.ingest_minutes, analytics.devices, analytics.outbox, analytics.alerts,
      analytics.rules, analytics.anomalies, analytics.series_state, analytics.consumed`);
  }
}
