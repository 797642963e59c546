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

  const insertReturning = async (subject: string, msgId: string, payload: unknown) => {
    const rows = (await dataSource.query(
      `INSERT INTO ${schema}.outbox (subject, msg_id, payload) VALUES ($1, $2, $3) RETURNING id`,
      [subject, msgId, JSON.stringify(payload)],
    )) as { id: string }[];
    return { id: (rows[0] as { id: string }).id, subject, msgId, payload };
  };
  const rowsLeft = async () =>
    ((await dataSource.query(`SELECT msg_id FROM ${schema}.outbox ORDER BY id`)) as { msg_id: string }[]).map(
      (r) => r.msg_id,
    );
  const storedIds = async (subject: string) => {
    const info = await messaging.jsm.streams.info('ALERTS', { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  };

  it('relays committed events from memory once the table is drained, deleting their rows', async () => {
    await dataSource.query(`DELETE FROM ${schema}.outbox`);
    const sut = new OutboxService(new OutboxRepository(dataSource, schema), messaging.publisher);
    const subject = `alert.${org}.memory`;
    // A backlog first: events go from memory only after a pass found the table empty.
    const old = await insertReturning(subject, `${org}.m.old`, { i: 0 });
    expect(sut.relayingFromMemory).toBe(false);
    sut.relayCommitted([old]);
    await expect.poll(rowsLeft, { timeout: 5_000 }).toEqual([]);
    await expect.poll(() => sut.relayingFromMemory).toBe(true);

    const events = [];
    for (let i = 1; i <= 20; i++) events.push(await insertReturning(subject, `${org}.m.${i}`, { i }));
    sut.relayCommitted(events);
    await expect.poll(rowsLeft, { timeout: 5_000 }).toEqual([]);
    await expect.poll(() => storedIds(subject), { timeout: 5_000 }).toBe(21);
    const last = await messaging.jsm.streams.getMessage('ALERTS', { last_by_subj: subject });
    expect(last?.header?.get('Nats-Msg-Id')).toBe(`${org}.m.20`);
    await sut.onApplicationShutdown();
  });

  it('falls back to the table when a publish fails, keeping the event until a pass relays it', async () => {
    await dataSource.query(`DELETE FROM ${schema}.outbox`);
    const sut = new OutboxService(new OutboxRepository(dataSource, schema), messaging.publisher);
    await sut.flush();
    expect(sut.relayingFromMemory).toBe(true);
    // No stream captures this subject: JetStream refuses the publish.
    const refused = await insertReturning(`nostream.${org}.x`, `${org}.f.1`, { i: 1 });
    sut.relayCommitted([refused]);
    await expect.poll(() => sut.relayingFromMemory, { timeout: 10_000 }).toBe(false);
    expect(await rowsLeft()).toEqual([`${org}.f.1`]);

    // Events committed meanwhile wait behind it in the table (order kept) ...
    const next = await insertReturning(`alert.${org}.after`, `${org}.f.2`, { i: 2 });
    sut.relayCommitted([next]);
    await sut.flush();
    expect(await rowsLeft()).toEqual([`${org}.f.1`, `${org}.f.2`]);
    // ... and go once the first can be relayed.
    await dataSource.query(`UPDATE ${schema}.outbox SET subject = $1 WHERE msg_id = $2`, [
      `alert.${org}.after`,
      `${org}.f.1`,
    ]);
    await sut.flush();
    expect(await rowsLeft()).toEqual([]);
    expect(sut.relayingFromMemory).toBe(true);
    expect(await storedIds(`alert.${org}.after`)).toBe(2);
    await sut.onApplicationShutdown();
  });
});
