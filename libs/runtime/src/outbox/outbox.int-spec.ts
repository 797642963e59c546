import { randomUUID } from 'node:crypto';
import { createDataSource } from '@conduit/database';
import type { Messaging } from '@conduit/messaging';
import { connectTestMessaging } from '@conduit/messaging/testing';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxRepository } from './outbox.repository.js';
import { OutboxService } from './outbox.service.js';

const PGBOUNCER = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:6432/conduit_test';

/** The relay against a real outbox table (a schema of its own), real PgBouncer and JetStream. */
describe(OutboxService.name, () => {
  const schema = `outbox_spec_${randomUUID().replaceAll('-', '').slice(0, 8)}`;
  const org = `ob-${randomUUID().slice(0, 8)}`;
  let dataSource: DataSource;
  let messaging: Messaging;

  beforeAll(async () => {
    dataSource = createDataSource({ url: PGBOUNCER, schema, poolMax: 2, applicationName: 'outbox-int-spec' });
    await dataSource.initialize();
    await dataSource.query(`CREATE SCHEMA ${schema}`);
    await dataSource.query(
      `CREATE TABLE ${schema}.outbox (id bigserial PRIMARY KEY, subject text NOT NULL, msg_id text NOT NULL,
         payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
    );
    messaging = await connectTestMessaging();
  });

  afterAll(async () => {
    await dataSource?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await dataSource?.destroy();
    await messaging?.close();
  });

  const vacuumCount = async () =>
    Number(
      (
        (await dataSource.query(`SELECT pg_stat_get_vacuum_count('${schema}.outbox'::regclass) AS n`)) as {
          n: string;
        }[]
      )[0]?.n,
    );
  const enqueue = (n: number, tag: string) =>
    dataSource.query(
      `INSERT INTO ${schema}.outbox (subject, msg_id, payload)
       SELECT $1, $2 || i, jsonb_build_object('i', i) FROM generate_series(1, $3) AS i`,
      [`alert.${org}.outbox-spec`, `${org}.${tag}.`, n],
    );

  it('relays every event in order, then vacuums its table once enough relayed rows piled up', async () => {
    const sut = new OutboxService(new OutboxRepository(dataSource, schema), messaging.publisher, {
      vacuumAfterRows: 250,
      vacuumEveryMs: 0,
    });
    await enqueue(200, 'a');
    await sut.flush();
    // 200 relayed: under the threshold, no vacuum.
    await sut.vacuumIfDue();
    const before = await vacuumCount();
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM ${schema}.outbox`)).toEqual([{ n: 0 }]);

    await enqueue(100, 'b');
    await sut.flush();
    await sut.vacuumIfDue();
    // Statistics reach other sessions when the vacuuming one reports them: poll briefly.
    await expect.poll(vacuumCount, { timeout: 5_000 }).toBe(before + 1);
    // The counter starts again: no second vacuum without new relayed rows.
    await sut.vacuumIfDue();
    await new Promise((r) => setTimeout(r, 300));
    expect(await vacuumCount()).toBe(before + 1);

    const stored = await messaging.jsm.streams.getMessage('ALERTS', {
      last_by_subj: `alert.${org}.outbox-spec`,
    });
    expect(stored?.header?.get('Nats-Msg-Id')).toBe(`${org}.b.100`);
    const info = await messaging.jsm.streams.info('ALERTS', { subjects_filter: `alert.${org}.>` });
    expect(info.state.subjects).toEqual({ [`alert.${org}.outbox-spec`]: 300 });
  });
});
