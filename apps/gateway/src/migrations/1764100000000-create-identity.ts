import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateIdentity1764100000000 implements MigrationInterface {
  name = 'CreateIdentity1764100000000';

  async up(q: QueryRunner): Promise<void> {
    // `system` orgs are the platform operators': their admins manage every org.
    await q.query(`
      CREATE TABLE identity.orgs (
        id         text        PRIMARY KEY,
        name       text        NOT NULL,
        tier       text        NOT NULL DEFAULT 'standard',
        system     boolean     NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE identity.users (
        id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id     text        NOT NULL REFERENCES identity.orgs (id) ON DELETE CASCADE,
        email      text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (org_id, email)
      )`);
    // Keys are 256-bit random strings: a SHA-256 digest is enough to store them (no salt or
    // slow hash needed, unlike passwords), and it is the lookup key of every request.
    await q.query(`
      CREATE TABLE identity.api_keys (
        id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id     text        NOT NULL REFERENCES identity.orgs (id) ON DELETE CASCADE,
        user_id    uuid        NOT NULL REFERENCES identity.users (id) ON DELETE CASCADE,
        role       text        NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
        name       text        NOT NULL DEFAULT '',
        prefix     text        NOT NULL,
        key_hash   bytea       NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_org_idx ON identity.api_keys (org_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE identity.api_keys`);
    await q.query(`DROP TABLE identity.users`);
    await q.query(`DROP TABLE identity.orgs`);
  }
}
