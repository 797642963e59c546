import { randomUUID } from 'node:crypto';
import { createDataSource, runMigrations } from '@conduit/database';
import type { JetStreamConsumers, Messaging } from '@conduit/messaging';
import { connectTestMessaging } from '@conduit/messaging/testing';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertsRepository } from '../alerts/alerts.repository.js';
import { loadAnalyticsConfig } from '../config/analytics.config.js';
import { DeviceDirectoryService } from '../devices/device-directory.service.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { ANALYTICS_SCHEMA, analyticsMigrations } from '../migrations/index.js';
import { NoDataService } from '../rules/no-data.service.js';
import { RuleEngineService } from '../rules/rule-engine.service.js';
import { RulesRepository } from '../rules/rules.repository.js';
import { RulesService } from '../rules/rules.service.js';
import { AnomalyConsumer, type TelemetryMessage } from './anomaly.consumer.js';
import { AnomalyDetectorService } from './anomaly-detector.service.js';
import { SeriesRepository } from './series.repository.js';
import { OutboxRepository, OutboxService } from '@conduit/runtime';
import { AlertEscalated } from '@conduit/contracts';

const PGBOUNCER = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:6432/conduit_test';
const DIRECT = process.env['MIGRATION_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/conduit_test';

describe(AnomalyConsumer.name, () => {
  const orgId = `anl-${randomUUID().slice(0, 8)}`;
  const config = loadAnalyticsConfig({ CONDUIT_PRESET: 'test', ANALYTICS_DEVICE_CACHE_MS: '0' });
  // Rule tests jump from ~20 to 95, which the detector rightly flags too: they count rule alerts only.
  const rulesOnly = loadAnalyticsConfig({
    CONDUIT_PRESET: 'test',
    ANALYTICS_DEVICE_CACHE_MS: '0',
    ANALYTICS_ANOMALY_ALERTS: 'false',
  });
  // A stream epoch of its own: this file's sequences collide with no other run's.
  const epoch = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  let seq = 1;
  let dataSource: DataSource;
  let messaging: Messaging;
  let rules: RulesService;
  let alerts: AlertsRepository;
  let series: SeriesRepository;
  let outbox: OutboxService;
  let devices: DevicesRepository;

  /** A fresh consumer instance: what a restarted (or another) replica starts with — nothing in memory. */
  const replica = (options = rulesOnly) =>
    new AnomalyConsumer(
      {} as JetStreamConsumers,
      series,
      alerts,
      rules,
      new DeviceDirectoryService(devices, config),
      outbox,
      new AnomalyDetectorService(options.service.detector),
      new RuleEngineService(),
      options,
    );
  const t0 = Date.now() - 3_600_000;
  const message = (deviceId: string, values: number[], from: number, metric = 'temp'): TelemetryMessage => ({
    epoch,
    seq: seq++,
    orgId,
    deviceId,
    arrivedAt: new Date(),
    points: values.map((value, i) => ({ metric, ts: t0 + (from + i) * 1000, value })),
  });
  /** `temp > 80` three times within 60 s, no cooldown, resolved after 3 normal points. */
  const repeatingRule = (name: string, deviceId: string) =>
    rules.create(
      { orgId },
      {
        name,
        metric: 'temp',
        scope: { device_ids: [deviceId] },
        condition: { op: 'gt', threshold: 80 },
        mode: { type: 'repeating', count: 3, window_seconds: 60 },
        severity: 'warning',
        cooldown_seconds: 0,
        escalation: [],
        auto_resolve_after: 3,
        enabled: true,
      },
    );
  const alertRows = (deviceId: string) =>
    dataSource.query(
      `SELECT source, status, resolved_by, severity FROM analytics.alerts WHERE org_id = $1 AND device_id = $2 ORDER BY raised_at`,
      [orgId, deviceId],
    ) as Promise<{ source: string; status: string; resolved_by: string | null; severity: string }[]>;
  const outboxSubjects = async () =>
    (
      (await dataSource.query(`SELECT subject FROM analytics.outbox WHERE subject LIKE $1 ORDER BY id`, [
        `alert.${orgId}.%`,
      ])) as { subject: string }[]
    ).map((r) => r.subject);

  beforeAll(async () => {
    await runMigrations({ url: DIRECT, schema: ANALYTICS_SCHEMA, migrations: analyticsMigrations });
    dataSource = createDataSource({
      url: PGBOUNCER,
      schema: ANALYTICS_SCHEMA,
      poolMax: 4,
      applicationName: 'analytics-int-spec',
    });
    await dataSource.initialize();
    messaging = await connectTestMessaging();
    const outboxRepository = new OutboxRepository(dataSource, 'analytics');
    alerts = new AlertsRepository(dataSource, outboxRepository);
    series = new SeriesRepository(dataSource);
    devices = new DevicesRepository(dataSource);
    rules = new RulesService(new RulesRepository(dataSource, alerts), config);
    outbox = new OutboxService(outboxRepository, messaging.publisher);
  });

  afterAll(async () => {
    for (const table of ['alerts', 'anomalies', 'series_state', 'rules', 'devices', 'ingest_minutes']) {
      await dataSource.query(`DELETE FROM analytics.${table} WHERE org_id = $1`, [orgId]);
    }
    await dataSource.query(`DELETE FROM analytics.outbox WHERE subject LIKE $1`, [`alert.${orgId}.%`]);
    await dataSource.destroy();
    await messaging.close();
  });

  it('min occurrences 3 + cooldown: one alert for a 10-point breach, auto-resolved, events in the outbox and on ALERTS', async () => {
    await rules.create(
      { orgId },
      {
        name: 'hot',
        metric: 'temp',
        scope: { device_ids: ['dev-rule'] },
        condition: { op: 'gt', threshold: 80 },
        mode: { type: 'repeating', count: 3, window_seconds: 60 },
        severity: 'major',
        cooldown_seconds: 600,
        escalation: [],
        auto_resolve_after: 3,
        enabled: true,
      },
    );
    const sut = replica();
    const normal = Array.from({ length: 40 }, (_, i) => 20 + (i % 3));
    await sut.process([message('dev-rule', normal, 0)]);
    // The breach spans two batches; a redelivery of the first changes nothing.
    const first = message('dev-rule', Array<number>(5).fill(95), 40);
    expect((await sut.process([first])).raised).toBe(1);
    expect(await sut.process([first])).toMatchObject({ messages: 0, duplicates: 1, raised: 0 });
    await sut.process([message('dev-rule', Array<number>(5).fill(95), 45)]);
    const recovered = await sut.process([message('dev-rule', [20, 21, 20, 21], 50)]);
    expect(recovered.resolved).toBeGreaterThanOrEqual(1);

    const rows = (await alertRows('dev-rule')).filter((a) => a.source === 'rule');
    expect(rows).toEqual([{ source: 'rule', status: 'resolved', resolved_by: 'auto', severity: 'major' }]);
    // Inside the cooldown a new breach raises nothing.
    expect((await sut.process([message('dev-rule', [95, 95, 95, 95], 60)])).raised).toBe(0);
    expect((await alertRows('dev-rule')).filter((a) => a.source === 'rule')).toHaveLength(1);

    // The outbox was written in the same transactions; relayed (after each commit, and here), it is empty.
    await outbox.flush();
    expect(await outboxSubjects()).toEqual([]);
    const [alert] = await alerts.list({ orgId }, { device: 'dev-rule', limit: 10 });
    for (const event of ['raised', 'resolved']) {
      const stored = await messaging.jsm.streams.getMessage('ALERTS', {
        last_by_subj: `alert.${orgId}.${event}`,
      });
      expect(stored?.json<{ alert: { id: string } }>().alert.id).toBe(alert?.id);
    }
  });

  it('analyses a message once when its redelivered copy is in the same batch', async () => {
    const m = message('dev-twice', [20, 21, 22], 0);
    expect(await replica().process([m, m])).toMatchObject({ messages: 1, duplicates: 1, points: 3 });
  });

  it('a restart mid-breach neither misses nor repeats: the state committed with the sequences is reloaded', async () => {
    await repeatingRule('restart', 'dev-restart');
    const normal = Array.from({ length: 40 }, (_, i) => 20 + (i % 3));
    await replica().process([message('dev-restart', normal, 0), message('dev-restart', [95, 95], 40)]);
    expect(await alertRows('dev-restart')).toEqual([]);
    // "Restarted": a new instance with nothing in memory. The third breaching point raises.
    const afterRestart = replica();
    expect((await afterRestart.process([message('dev-restart', [95], 42)])).raised).toBe(1);
    // And another restart while the breach goes on: still one alert.
    expect((await replica().process([message('dev-restart', [95, 95, 95, 95], 43)])).raised).toBe(0);
    expect((await alertRows('dev-restart')).filter((a) => a.source === 'rule')).toHaveLength(1);
  });

  it('keeps at most ANALYTICS_SERIES_CACHE_MAX series in memory; an evicted one resumes from its row', async () => {
    await repeatingRule('evict', 'dev-evict');
    const small = loadAnalyticsConfig({
      CONDUIT_PRESET: 'test',
      ANALYTICS_DEVICE_CACHE_MS: '0',
      ANALYTICS_ANOMALY_ALERTS: 'false',
      ANALYTICS_SERIES_CACHE_MAX: '100',
    });
    const sut = replica(small);
    await sut.process([message('dev-evict', [95, 95], 0)]);
    // 150 other series push dev-evict out of the 100 kept.
    await sut.process(Array.from({ length: 150 }, (_, i) => message(`dev-fill-${i}`, [20], 0)));
    expect(sut.trackedSeries).toBe(100);
    // Its third breaching point still counts the two before it: the state came back from its row.
    expect((await sut.process([message('dev-evict', [95], 2)])).raised).toBe(1);
    expect((await alertRows('dev-evict')).map((a) => a.status)).toEqual(['active']);
  });

  it('escalates an open alert step by step while the breach lasts, publishing alert.<org>.escalated for each', async () => {
    await rules.create(
      { orgId },
      {
        name: 'escalating',
        metric: 'temp',
        scope: { device_ids: ['dev-escalate'] },
        condition: { op: 'gt', threshold: 80 },
        mode: { type: 'simple' },
        severity: 'minor',
        cooldown_seconds: 0,
        escalation: [
          { after_seconds: 5, severity: 'major' },
          { after_seconds: 10, severity: 'critical' },
        ],
        auto_resolve_after: 3,
        enabled: true,
      },
    );
    const sut = replica();
    const normal = Array.from({ length: 40 }, (_, i) => 20 + (i % 3));
    await sut.process([message('dev-escalate', normal, 0)]);
    // Breaching from second 40: raised at 40, major from 45, critical from 50.
    expect((await sut.process([message('dev-escalate', [95, 95, 95], 40)])).raised).toBe(1);
    expect((await alertRows('dev-escalate'))[0]?.severity).toBe('minor');
    const late = message('dev-escalate', [95, 95, 95, 95], 44);
    await sut.process([late]);
    expect((await alertRows('dev-escalate'))[0]?.severity).toBe('major');
    // A restarted replica goes on from the committed state; a redelivery changes nothing.
    await replica().process([late, message('dev-escalate', [95, 95, 95], 49)]);
    await sut.process([message('dev-escalate', [95, 95], 52)]);
    expect(await alertRows('dev-escalate')).toEqual([
      { source: 'rule', status: 'active', resolved_by: null, severity: 'critical' },
    ]);

    // Relayed after each commit (and here): both events are on ALERTS, in order.
    await outbox.flush();
    const subject = `alert.${orgId}.escalated`;
    // STREAM.MSG.GET takes `next_by_subj`; nats.js types it for the direct API only.
    const firstOf = { seq: 0, next_by_subj: subject } as unknown as Parameters<
      Messaging['jsm']['streams']['getMessage']
    >[1];
    const first = await messaging.jsm.streams.getMessage('ALERTS', firstOf);
    const last = await messaging.jsm.streams.getMessage('ALERTS', { last_by_subj: subject });
    const events = [first, last].map((m) => AlertEscalated.schema.parse(m?.json()));
    expect(first?.seq).toBeLessThan(last?.seq ?? 0);
    expect(events.map((e) => [e.previous_severity, e.alert.severity])).toEqual([
      ['minor', 'major'],
      ['major', 'critical'],
    ]);
    expect(events[1]?.alert).toMatchObject({ device_id: 'dev-escalate', status: 'active' });
    const info = await messaging.jsm.streams.info('ALERTS', { subjects_filter: subject });
    expect(info.state.subjects).toEqual({ [subject]: 2 });
  });

  it('two replicas taking turns keep one consistent state (versions): one alert, resolved once', async () => {
    await rules.create(
      { orgId },
      {
        name: 'turns',
        metric: 'temp',
        scope: { device_ids: ['dev-turns'] },
        condition: { op: 'gt', threshold: 80 },
        mode: { type: 'simple' },
        severity: 'minor',
        cooldown_seconds: 0,
        escalation: [],
        auto_resolve_after: 2,
        enabled: true,
      },
    );
    const a = replica();
    const b = replica();
    await a.process([
      message(
        'dev-turns',
        Array.from({ length: 40 }, (_, i) => 20 + (i % 3)),
        0,
      ),
    ]);
    await b.process([message('dev-turns', [95], 40)]);
    await a.process([message('dev-turns', [95], 41)]); // a's cache is stale: it must reload
    await b.process([message('dev-turns', [20], 42)]);
    await a.process([message('dev-turns', [20], 43)]);
    const rows = (await alertRows('dev-turns')).filter((r) => r.source === 'rule');
    expect(rows).toEqual([{ source: 'rule', status: 'resolved', resolved_by: 'auto', severity: 'minor' }]);
  });

  it('stores a spike as one anomaly with its expected range, and opens one anomaly alert', async () => {
    const sut = replica(config);
    const values = Array.from({ length: 200 }, (_, i) => 50 + Math.sin(i) * 2);
    values[150] = 500;
    await sut.process([message('dev-spike', values.slice(0, 100), 0, 'power')]);
    const result = await sut.process([message('dev-spike', values.slice(100), 100, 'power')]);
    expect(result.anomalies).toBe(1);
    const found = await series.anomalies(
      { orgId },
      {
        from: new Date(t0).toISOString(),
        to: new Date(t0 + 3_600_000).toISOString(),
        device: 'dev-spike',
        limit: 100,
      },
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ value: 500, kind: 'spike', metric: 'power' });
    expect(found[0]?.expected_low).toBeLessThan(50);
    expect(found[0]?.expected_high).toBeLessThan(500);
    // Raised at the spike, auto-resolved by the normal points after it.
    expect(await alertRows('dev-spike')).toEqual([
      { source: 'anomaly', status: 'resolved', resolved_by: 'auto', severity: 'warning' },
    ]);
  });

  it('a user resolution reaches the replica holding the series: the next breach raises a new alert', async () => {
    await rules.create(
      { orgId },
      {
        name: 'manual',
        metric: 'temp',
        scope: { device_ids: ['dev-manual'] },
        condition: { op: 'gt', threshold: 80 },
        mode: { type: 'simple' },
        severity: 'critical',
        cooldown_seconds: 0,
        escalation: [],
        auto_resolve_after: 0,
        enabled: true,
      },
    );
    const sut = replica();
    await sut.process([
      message(
        'dev-manual',
        Array.from({ length: 40 }, (_, i) => 20 + (i % 3)),
        0,
      ),
    ]);
    await sut.process([message('dev-manual', [95], 40)]);
    const [open] = (
      await alerts.list({ orgId }, { device: 'dev-manual', status: 'active', limit: 10 })
    ).filter((a) => a.source === 'rule');
    expect(open).toBeDefined();
    const acked = await alerts.acknowledge({ orgId }, open?.id ?? '', 'user-1');
    expect(acked).toMatchObject({
      kind: 'done',
      alert: { status: 'acknowledged', acknowledged_by: 'user-1' },
    });
    expect(await alerts.acknowledge({ orgId }, open?.id ?? '', 'user-1')).toMatchObject({ kind: 'conflict' });
    expect(await alerts.resolve({ orgId }, open?.id ?? '', 'user-2')).toMatchObject({
      kind: 'done',
      alert: { status: 'resolved', resolved_by: 'user-2' },
    });
    // Still breaching: without the state update the engine would think its alert still open.
    expect((await sut.process([message('dev-manual', [96], 41)])).raised).toBe(1);
  });

  it('no_data rules raise for a silent series, and data coming back resolves the alert', async () => {
    await rules.create(
      { orgId },
      {
        name: 'silent',
        metric: 'hb',
        scope: { device_ids: ['dev-silent'] },
        condition: { op: 'no_data', minutes: 1 },
        mode: { type: 'simple' },
        severity: 'major',
        cooldown_seconds: 0,
        escalation: [],
        auto_resolve_after: 1,
        enabled: true,
      },
    );
    const sut = replica();
    await sut.process([message('dev-silent', [1], 0, 'hb')]);
    await dataSource.query(
      `UPDATE analytics.series_state SET last_seen_at = now() - interval '5 minutes' WHERE org_id = $1 AND device_id = 'dev-silent'`,
      [orgId],
    );
    const sweeper = new NoDataService(
      dataSource,
      rules,
      alerts,
      new DeviceDirectoryService(devices, config),
      outbox,
      config,
    );
    expect(await sweeper.sweep()).toBe(1);
    expect(await sweeper.sweep()).toBe(0);
    expect((await alertRows('dev-silent')).map((a) => a.status)).toEqual(['active']);
    expect((await sut.process([message('dev-silent', [1], 100, 'hb')])).resolved).toBe(1);
    expect((await alertRows('dev-silent')).map((a) => a.status)).toEqual(['resolved']);
  });

  it('scopes by device type from the DEVICE projection', async () => {
    await devices.apply([
      {
        kind: 'upsert',
        attributes: { orgId, deviceId: 'dev-pump', type: 'pump', site: 'north', tags: ['a'] },
        status: 'online',
        at: new Date(),
      },
      {
        kind: 'upsert',
        attributes: { orgId, deviceId: 'dev-fan', type: 'fan', site: 'north', tags: [] },
        status: 'offline',
        at: new Date(),
      },
    ]);
    await rules.create(
      { orgId },
      {
        name: 'pumps',
        metric: 'pressure',
        scope: { device_type: 'pump', site: 'north' },
        condition: { op: 'outside', low: 1, high: 5 },
        mode: { type: 'simple' },
        severity: 'info',
        cooldown_seconds: 0,
        escalation: [],
        auto_resolve_after: 3,
        enabled: true,
      },
    );
    const sut = replica();
    const result = await sut.process([
      message('dev-pump', [3, 3, 9], 0, 'pressure'),
      message('dev-fan', [3, 3, 9], 0, 'pressure'),
    ]);
    expect(result.raised).toBe(1);
    expect((await alertRows('dev-pump')).map((a) => a.source)).toEqual(['rule']);
    expect(await alertRows('dev-fan')).toEqual([]);
    expect(await devices.statusCounts({ orgId })).toEqual({ online: 1, offline: 1 });
  });

  it('two replicas meeting a new series at once serialise on it: no update is lost', async () => {
    const [a, b] = [replica(), replica()];
    await Promise.all([
      a.process([message('dev-race', Array<number>(10).fill(20), 0)]),
      b.process([message('dev-race', Array<number>(10).fill(21), 10)]),
    ]);
    const [row] = (await dataSource.query(
      `SELECT version::int AS version, (state->'d'->>'n')::int AS n FROM analytics.series_state
        WHERE org_id = $1 AND device_id = 'dev-race'`,
      [orgId],
    )) as { version: number; n: number }[];
    expect(row).toEqual({ version: 2, n: 20 });
  });
});
