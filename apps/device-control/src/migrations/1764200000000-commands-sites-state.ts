import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CommandsSitesState1764200000000 implements MigrationInterface {
  name = 'CommandsSitesState1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE device.sites (
        org_id       text        NOT NULL,
        id           text        NOT NULL,
        name         text        NOT NULL,
        integrations jsonb       NOT NULL DEFAULT '{}',
        created_at   timestamptz NOT NULL DEFAULT now(),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, id)
      )`);
    // "Online devices of a site": a partial index over the online ones only.
    await q.query(
      `CREATE INDEX devices_org_site_online_idx ON device.devices (org_id, site, created_at, id) WHERE status = 'online'`,
    );
    await q.query(`
      CREATE TABLE device.commands (
        id              uuid        PRIMARY KEY,
        org_id          text        NOT NULL,
        device_id       text        NOT NULL,
        vendor          text,
        breaker         text        NOT NULL,
        action          text        NOT NULL,
        params          jsonb       NOT NULL DEFAULT '{}',
        status          text        NOT NULL CHECK (status IN
                          ('queued', 'sent', 'delivered', 'succeeded', 'failed', 'timeout', 'expired')),
        reason          text,
        attempts        int         NOT NULL DEFAULT 0,
        idempotency_key text,
        deadline        timestamptz NOT NULL,
        -- queued: when the next delivery attempt is due (also a lease: a replica that claims a
        -- command pushes it forward, so a crash mid-attempt only delays the retry).
        next_attempt_at timestamptz,
        -- sent/delivered: when a missing acknowledgement turns the command into 'timeout'.
        ack_deadline    timestamptz,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE UNIQUE INDEX commands_idempotency_idx ON device.commands (org_id, device_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(`CREATE INDEX commands_device_idx ON device.commands (org_id, device_id, created_at, id)`);
    // The dispatcher's and the sweeps' access paths: small partial indexes over live commands.
    await q.query(
      `CREATE INDEX commands_due_idx ON device.commands (next_attempt_at) WHERE status = 'queued'`,
    );
    await q.query(`CREATE INDEX commands_deadline_idx ON device.commands (deadline) WHERE status = 'queued'`);
    await q.query(
      `CREATE INDEX commands_ack_idx ON device.commands (ack_deadline) WHERE status IN ('sent', 'delivered')`,
    );
    await q.query(`
      CREATE TABLE device.command_transitions (
        command_id uuid        NOT NULL REFERENCES device.commands (id) ON DELETE CASCADE,
        seq        int         NOT NULL,
        status     text        NOT NULL,
        reason     text,
        at         timestamptz NOT NULL,
        PRIMARY KEY (command_id, seq)
      )`);
    await q.query(`
      CREATE TABLE device.device_state (
        org_id      text        NOT NULL,
        device_id   text        NOT NULL,
        reported    jsonb       NOT NULL DEFAULT '{}',
        desired     jsonb       NOT NULL DEFAULT '{}',
        reported_at timestamptz,
        desired_at  timestamptz,
        PRIMARY KEY (org_id, device_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE device.device_state`);
    await q.query(`DROP TABLE device.command_transitions`);
    await q.query(`DROP TABLE device.commands`);
    await q.query(`DROP INDEX device.devices_org_site_online_idx`);
    await q.query(`DROP TABLE device.sites`);
  }
}
