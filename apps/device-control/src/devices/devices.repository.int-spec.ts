import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataSource, runMigrations } from '@conduit/database';
import type { DataSource } from 'typeorm';
import { DEVICE_SCHEMA, deviceControlMigrations } from '../migrations/index.js';
import { DeviceEntity } from './device.entity.js';
import { DeviceExistsError, DevicesRepository, type DeviceListFilter } from './devices.repository.js';
import { toWire } from './devices.service.js';

const PGBOUNCER = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:6432/conduit_test';
const DIRECT = process.env['MIGRATION_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/conduit_test';

describe(DevicesRepository.name, () => {
  let dataSource: DataSource;
  let sut: DevicesRepository;
  const list = async (scope: { orgId: string }, filter: DeviceListFilter) => {
    const page = await sut.listJson(scope, filter);
    return { rows: page.items.map((j) => JSON.parse(j) as { id: string }), next: page.next };
  };
  const org = { orgId: `org-${randomUUID()}` };
  const other = { orgId: `org-${randomUUID()}` };

  beforeAll(async () => {
    await runMigrations({ url: DIRECT, schema: DEVICE_SCHEMA, migrations: deviceControlMigrations });
    dataSource = createDataSource({
      url: PGBOUNCER,
      schema: DEVICE_SCHEMA,
      poolMax: 4,
      applicationName: 'devices-repository-int-spec',
      entities: [DeviceEntity],
    });
    await dataSource.initialize();
    sut = new DevicesRepository(dataSource);
    const base = Date.parse('2026-01-01T00:00:00Z');
    await sut.transaction(async (tx) => {
      for (let i = 0; i < 7; i++) {
        await sut.insert(
          tx,
          org,
          {
            id: `dev-${i}`,
            name: `d${i}`,
            site: i % 2 === 0 ? 'north' : 'south',
            type: i < 5 ? 'sensor' : 'meter',
            vendor: null,
            externalId: null,
            tags: ['t'],
            metadata: { i },
          },
          new Date(base + Math.floor(i / 2) * 1000), // pairs share a timestamp: the id breaks the tie
        );
      }
      await sut.insert(
        tx,
        other,
        {
          id: 'dev-0',
          name: 'theirs',
          site: 'north',
          type: 'sensor',
          vendor: null,
          externalId: null,
          tags: [],
          metadata: {},
        },
        new Date(base),
      );
    });
  });

  afterAll(async () => {
    await dataSource.query(`DELETE FROM device.devices WHERE org_id = ANY($1)`, [[org.orgId, other.orgId]]);
    await dataSource.destroy();
  });

  it('pages through an org in (created_at, id) order without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor;
    do {
      const page = await list(org, { limit: 3, cursor });
      seen.push(...page.rows.map((r) => r.id));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(['dev-0', 'dev-1', 'dev-2', 'dev-3', 'dev-4', 'dev-5', 'dev-6']);
  });

  it('filters by site and type within the org only', async () => {
    const north = await list(org, { limit: 50, site: 'north' });
    expect(north.rows.map((r) => r.id)).toEqual(['dev-0', 'dev-2', 'dev-4', 'dev-6']);
    const meters = await list(org, { limit: 50, type: 'meter' });
    expect(meters.rows.map((r) => r.id)).toEqual(['dev-5', 'dev-6']);
    expect(north.next).toBeUndefined();
  });

  it('builds in Postgres exactly the wire JSON that toWire builds', async () => {
    const page = await sut.listJson(org, { limit: 1 });
    const entity = await sut.findById(org, 'dev-0');
    expect(entity).not.toBeNull();
    expect(JSON.parse(page.items[0] ?? 'null')).toEqual(toWire(entity as DeviceEntity));
  });

  it('never returns another org’s device', async () => {
    const mine = await sut.findById(org, 'dev-0');
    const theirs = await sut.findById(other, 'dev-0');
    expect(mine?.name).toBe('d0');
    expect(theirs?.name).toBe('theirs');
    expect(await sut.findById(other, 'dev-1')).toBeNull();
  });

  it('refuses a duplicate id in the same org', async () => {
    await expect(
      sut.transaction((tx) =>
        sut.insert(
          tx,
          org,
          {
            id: 'dev-1',
            name: 'again',
            site: null,
            type: 'x',
            vendor: null,
            externalId: null,
            tags: [],
            metadata: {},
          },
          new Date(),
        ),
      ),
    ).rejects.toBeInstanceOf(DeviceExistsError);
  });
});
