import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OnlineLastSeenIndex1764100100000 implements MigrationInterface {
  name = 'OnlineLastSeenIndex1764100100000';

  async up(q: QueryRunner): Promise<void> {
    // The offline sweep looks for online devices silent too long, across orgs: a partial index
    // over the online ones only, small whatever the fleet's size.
    await q.query(
      `CREATE INDEX devices_online_last_seen_idx ON device.devices (last_seen) WHERE status = 'online'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX device.devices_online_last_seen_idx`);
  }
}
