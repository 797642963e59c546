import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '@conduit/database';
import { DEVICE_SCHEMA, deviceControlMigrations } from '../migrations/index.js';
import { breakerName } from './breaker-name.js';
import { CommandsRepository, type CreateOptions, type NewCommand } from './commands.repository.js';

const PGBOUNCER = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:6432/conduit_test';
const DIRECT = process.env['MIGRATION_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/conduit_test';

/** The command insert: one statement that reads the device's target and stores the command. */
describe(`${CommandsRepository.name}.create`, () => {
  let dataSource: DataSource;
  let sut: CommandsRepository;
  const scope = { orgId: `org-${randomUUID()}` };
  const options: CreateOptions = { vendors: ['http-bridge', 'mqtt'], blocked: [], inlineLeaseMs: 30_000 };
  const command = (deviceId: string, extra: Partial<NewCommand> = {}): NewCommand => ({
    id: randomUUID(),
    deviceId,
    action: 'set_state',
    params: { on: true },
    idempotencyKey: null,
    deadline: new Date(Date.now() + 60_000),
    ...extra,
  });
  const nextAttemptAt = async (id: string) =>
    (
      (await dataSource.query(`SELECT next_attempt_at FROM device.commands WHERE id = $1`, [id])) as {
        next_attempt_at: Date;
      }[]
    )[0]?.next_attempt_at;
  const count = async (deviceId: string) =>
    (
      (await dataSource.query(
        `SELECT count(*)::int AS n FROM device.commands WHERE org_id = $1 AND device_id = $2`,
        [scope.orgId, deviceId],
      )) as { n: number }[]
    )[0]?.n;

  beforeAll(async () => {
    await runMigrations({ url: DIRECT, schema: DEVICE_SCHEMA, migrations: deviceControlMigrations });
    dataSource = createDataSource({
      url: PGBOUNCER,
      schema: DEVICE_SCHEMA,
      poolMax: 2,
      applicationName: 'commands-repository-int-spec',
      entities: [],
    });
    await dataSource.initialize();
    sut = new CommandsRepository(dataSource);
    await dataSource.query(
      `INSERT INTO device.sites (org_id, id, name, integrations) VALUES ($1, 'north', 'north', $2)`,
      [scope.orgId, JSON.stringify({ 'http-bridge': { base_url: 'http://hub.test' } })],
    );
    await dataSource.query(
      `INSERT INTO device.devices (org_id, id, name, type, site, vendor, external_id) VALUES
         ($1, 'lamp', 'lamp', 'light', 'north', 'http-bridge', 'ext-lamp'),
         ($1, 'plug', 'plug', 'plug', NULL, 'mqtt', 'ext-plug'),
         ($1, 'odd', 'odd', 'x', 'north', 'zigbee', 'ext-odd'),
         ($1, 'bare', 'bare', 'x', NULL, NULL, NULL)`,
      [scope.orgId],
    );
  });

  afterAll(async () => {
    await dataSource?.query(`DELETE FROM device.devices WHERE org_id = $1`, [scope.orgId]);
    await dataSource?.query(`DELETE FROM device.sites WHERE org_id = $1`, [scope.orgId]);
    await dataSource?.destroy();
  });

  it('stores the command with its breaker and event, returns the target, and leases it to the caller', async () => {
    const now = new Date();
    const result = await sut.create(scope, command('lamp'), options, now);

    expect(result.kind).toBe('stored');
    if (result.kind !== 'stored') return;
    expect(result).toMatchObject({ created: true, inline: true });
    expect(result.target).toEqual({
      vendor: 'http-bridge',
      externalId: 'ext-lamp',
      site: 'north',
      integrations: { 'http-bridge': { base_url: 'http://hub.test' } },
    });
    expect(result.row).toMatchObject({
      orgId: scope.orgId,
      deviceId: 'lamp',
      vendor: 'http-bridge',
      breaker: breakerName('http-bridge', scope.orgId, 'north'),
      status: 'queued',
      attempts: 0,
    });
    expect(result.events.map((e) => e.subject)).toEqual([`device.${scope.orgId}.lamp.command.queued`]);
    expect((await nextAttemptAt(result.row.id))?.getTime()).toBe(now.getTime() + 30_000);
  });

  it('leaves a command behind a refusing breaker, or with no inline lease, to the poll at once', async () => {
    const now = new Date();
    const blocked = await sut.create(
      scope,
      command('plug'),
      { ...options, blocked: [breakerName('mqtt', scope.orgId, null)] },
      now,
    );
    const noLease = await sut.create(scope, command('lamp'), { ...options, inlineLeaseMs: 0 }, now);

    for (const result of [blocked, noLease]) {
      expect(result.kind).toBe('stored');
      if (result.kind !== 'stored') return;
      expect(result.inline).toBe(false);
      expect((await nextAttemptAt(result.row.id))?.getTime()).toBe(now.getTime());
    }
    expect(blocked.kind === 'stored' && blocked.row.breaker).toBe(`mqtt:${scope.orgId}:*`);
  });

  it('stores nothing for a vendor no integration handles, or a missing device', async () => {
    const odd = await sut.create(scope, command('odd'), options, new Date());
    const bare = await sut.create(scope, command('bare'), options, new Date());
    const missing = await sut.create(scope, command('nope'), options, new Date());

    expect(odd).toMatchObject({
      kind: 'vendor_unknown',
      target: { vendor: 'zigbee', externalId: 'ext-odd' },
    });
    expect(bare).toMatchObject({ kind: 'vendor_unknown', target: { vendor: null } });
    expect(missing).toEqual({ kind: 'device_missing' });
    expect(await count('odd')).toBe(0);
    expect(await count('bare')).toBe(0);
  });

  it('returns the first command for a repeated idempotency key, without a second row or event', async () => {
    const key = `key-${randomUUID()}`;
    const first = await sut.create(scope, command('plug', { idempotencyKey: key }), options, new Date());
    const before = await count('plug');
    const again = await sut.create(scope, command('plug', { idempotencyKey: key }), options, new Date());

    expect(first.kind === 'stored' && first.created).toBe(true);
    expect(again).toMatchObject({ kind: 'stored', created: false, inline: false, events: [] });
    expect(again.kind === 'stored' && again.row.id).toBe(first.kind === 'stored' && first.row.id);
    expect(await count('plug')).toBe(before);
  });
});
