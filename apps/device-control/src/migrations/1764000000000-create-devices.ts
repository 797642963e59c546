import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateDevices1764000000000 implements MigrationInterface {
  name = 'CreateDevices1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE device.devices (
        org_id      text        NOT NULL,
        id          text        NOT NULL,
        name        text        NOT NULL,
        site        text,
        type        text        NOT NULL,
        vendor      text,
        external_id text,
        status      text        NOT NULL DEFAULT 'unknown' CHECK (status IN ('online', 'offline', 'unknown')),
        last_seen   timestamptz,
        tags        text[]      NOT NULL DEFAULT '{}',
        metadata    jsonb       NOT NULL DEFAULT '{}',
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, id)
      )`);
    // Keyset pagination is on (created_at, id) within an org, optionally filtered by one of
    // site, type or status: one index per access path, no more.
    await q.query(`CREATE INDEX devices_org_created_idx ON device.devices (org_id, created_at, id)`);
    await q.query(
      `CREATE INDEX devices_org_site_idx ON device.devices (org_id, site, created_at, id) WHERE site IS NOT NULL`,
    );
    await q.query(`CREATE INDEX devices_org_type_idx ON device.devices (org_id, type, created_at, id)`);
    await q.query(`CREATE INDEX devices_org_status_idx ON device.devices (org_id, status, created_at, id)`);
    // Transactional outbox: events are written with the change and relayed to JetStream after
    // commit, so a crash between commit and publish loses nothing.
    await q.query(`
      CREATE TABLE device.outbox (
        id         bigserial   PRIMARY KEY,
        subject    text        NOT NULL,
        msg_id     text        NOT NULL,
        payload    jsonb       NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE device.outbox`);
    await q.query(`DROP TABLE device.devices`);
  }
}
