import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stream sequences restart when a stream is deleted and created again, so a message is
 * identified by the stream's creation time and its sequence, not the sequence alone.
 */
export class ConsumedByStreamEpoch1764000200000 implements MigrationInterface {
  name = 'ConsumedByStreamEpoch1764000200000';

  async up(q: QueryRunner): Promise<void> {
    // Sequences recorded before this are from streams whose epoch is unknown; they only
    // guarded redeliveries long past, so they can go.
    await q.query(`TRUNCATE telemetry.consumed`);
    await q.query(`ALTER TABLE telemetry.consumed ADD COLUMN stream_epoch bigint NOT NULL`);
    await q.query(`ALTER TABLE telemetry.consumed DROP CONSTRAINT consumed_pkey`);
    await q.query(`ALTER TABLE telemetry.consumed ADD PRIMARY KEY (stream_epoch, stream_seq)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`TRUNCATE telemetry.consumed`);
    await q.query(`ALTER TABLE telemetry.consumed DROP CONSTRAINT consumed_pkey`);
    await q.query(`ALTER TABLE telemetry.consumed DROP COLUMN stream_epoch`);
    await q.query(`ALTER TABLE telemetry.consumed ADD PRIMARY KEY (stream_seq)`);
  }
}
