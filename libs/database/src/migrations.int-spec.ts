import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { runMigrations } from './migrations.js';

const DIRECT = process.env['MIGRATION_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/conduit_test';

describe(runMigrations.name, () => {
  it('applies each migration once when several replicas start together', async () => {
    const schema = `mig_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
    class CreateThings1700000000000 implements MigrationInterface {
      name = 'CreateThings1700000000000';
      async up(q: QueryRunner): Promise<void> {
        // Not idempotent on purpose: a second application would fail.
        await q.query(`CREATE TABLE "${schema}".things (id int PRIMARY KEY)`);
        await q.query(`INSERT INTO "${schema}".things VALUES (1)`);
      }
      async down(q: QueryRunner): Promise<void> {
        await q.query(`DROP TABLE "${schema}".things`);
      }
    }
    const client = new pg.Client({ connectionString: DIRECT });
    await client.connect();
    try {
      const results = await Promise.all(
        [1, 2, 3].map(() => runMigrations({ url: DIRECT, schema, migrations: [CreateThings1700000000000] })),
      );
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 1]);
      const history = await client.query(`SELECT name FROM "${schema}".migrations`);
      expect(history.rows).toEqual([{ name: 'CreateThings1700000000000' }]);
      const again = await runMigrations({ url: DIRECT, schema, migrations: [CreateThings1700000000000] });
      expect(again.applied).toEqual([]);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  });
});
