import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Outbox1764800000000 implements MigrationInterface {
  name = 'Outbox1764800000000';

  async up(q: QueryRunner): Promise<void> {
    // `llm.<org>.run.completed` is written with its run and relayed after commit (the shared
    // outbox of @conduit/runtime): a JetStream outage delays the event, it no longer loses it.
    await q.query(`
      CREATE TABLE experiments.outbox (
        id         bigserial   PRIMARY KEY,
        subject    text        NOT NULL,
        msg_id     text        NOT NULL,
        payload    jsonb       NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE experiments.outbox`);
  }
}
