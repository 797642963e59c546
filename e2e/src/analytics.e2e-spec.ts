import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestStack } from './support/stack.js';

const until = async <T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('not reached in time');
    await new Promise((r) => setTimeout(r, 150));
  }
};

interface AlertBody {
  id: string;
  source: string;
  rule_id: string | null;
  status: string;
  severity: string;
  device_id: string;
  acknowledged_by: string | null;
  resolved_by: string | null;
}

/** Analytics end to end: telemetry through the gateway, rules and alerts, events on ALERTS, a restart mid-stream. */
describe('analytics through the gateway', () => {
  let stack: TestStack;
  let nats: NatsConnection;
  const org = `anl-${randomUUID().slice(0, 8)}`;
  const base = Date.now() - 2 * 3_600_000;

  beforeAll(async () => {
    stack = await TestStack.start({
      services: ['device-control', 'telemetry', 'analytics', 'gateway'],
      // Redelivery of what a killed replica held comes after the ack wait: keep it short here.
      env: { CONSUMER_ACK_WAIT_S: '2', ANALYTICS_BATCH_WAIT_MS: '20' },
    });
    nats = await connect({ servers: stack.natsUrl });
  });
  afterAll(async () => {
    await nats?.close();
    await stack?.[Symbol.asyncDispose]();
  });

  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${stack.gatewayUrl}${path}`, {
      ...init,
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(await stack.authHeaders(org)),
      },
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  /** Points of one device, one second apart from second `from`. */
  const ingest = async (device: string, values: number[], from: number) => {
    const points = values.map((value, i) => ({
      device_id: device,
      metric: 'temp',
      ts: new Date(base + (from + i) * 1000).toISOString(),
      value,
    }));
    const res = await call('/api/v1/telemetry/batch', { method: 'POST', body: JSON.stringify({ points }) });
    expect(res.status).toBe(202);
  };
  const rule = async (device: string, overrides: Record<string, unknown> = {}) => {
    const res = await call('/api/v1/alert-rules', {
      method: 'POST',
      body: JSON.stringify({
        name: `hot ${device}`,
        metric: 'temp',
        scope: { device_ids: [device] },
        condition: { op: 'gt', threshold: 80 },
        severity: 'major',
        ...overrides,
      }),
    });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  };
  const ruleAlerts = async (device: string) =>
    ((await call(`/api/v1/alerts?device=${device}&limit=500`)).body['data'] as AlertBody[]).filter(
      (a) => a.source === 'rule',
    );
  const events = async (event: string) => {
    const jsm = await jetstreamManager(nats);
    const subject = `alert.${org}.${event}`;
    const info = await jsm.streams.info('ALERTS', { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  };
  const normal = Array.from({ length: 40 }, (_, i) => 20 + (i % 3));

  it('validates rules and answers 404 for unknown ones', async () => {
    const bad = await call('/api/v1/alert-rules', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', metric: 'temp', condition: { op: 'outside', low: 9, high: 1 } }),
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('body.condition.low');
    expect((await call(`/api/v1/alert-rules/${randomUUID()}`)).status).toBe(404);
  });

  it('min occurrences 3 + cooldown: one alert for a 10-point breach, auto-resolved, raised and resolved published', async () => {
    const created = await rule('dev-a', {
      mode: { type: 'repeating', count: 3, window_seconds: 60 },
      cooldown_seconds: 600,
      auto_resolve_after: 3,
    });
    const listed = await call('/api/v1/alert-rules');
    expect((listed.body['data'] as { id: string }[]).map((r) => r.id)).toContain(created.id);

    await ingest('dev-a', normal, 0);
    await ingest('dev-a', Array<number>(10).fill(95), 40);
    await ingest('dev-a', [20, 21, 20, 21], 50);
    const [alert] = await until(async () => {
      const alerts = await ruleAlerts('dev-a');
      return alerts.length > 0 && alerts.every((a) => a.status === 'resolved') ? alerts : undefined;
    });
    expect(alert).toMatchObject({
      rule_id: created.id,
      status: 'resolved',
      resolved_by: 'auto',
      severity: 'major',
    });
    // Inside the cooldown a new breach raises nothing.
    await ingest('dev-a', [95, 95, 95, 95], 60);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await ruleAlerts('dev-a')).toHaveLength(1);
    await until(async () =>
      (await events('raised')) >= 1 && (await events('resolved')) >= 1 ? true : undefined,
    );
  });

  it('acknowledge and resolve by a user, with who and when, each publishing its event', async () => {
    await rule('dev-b', { auto_resolve_after: 0, severity: 'critical' });
    await ingest('dev-b', normal, 0);
    await ingest('dev-b', [99], 40);
    const [open] = await until(async () => {
      const alerts = await ruleAlerts('dev-b');
      return alerts.length > 0 ? alerts : undefined;
    });
    expect(open?.status).toBe('active');
    const bySeverity = await call(`/api/v1/alerts?status=active&severity=critical&device=dev-b`);
    expect((bySeverity.body['data'] as AlertBody[]).map((a) => a.id)).toEqual([open?.id]);

    const acked = await call(`/api/v1/alerts/${open?.id}/ack`, { method: 'POST' });
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({ status: 'acknowledged' });
    expect(acked.body['acknowledged_by']).toEqual(expect.any(String));
    expect((await call(`/api/v1/alerts/${open?.id}/ack`, { method: 'POST' })).status).toBe(409);
    const resolved = await call(`/api/v1/alerts/${open?.id}/resolve`, { method: 'POST', body: '{}' });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolved_by: acked.body['acknowledged_by'] });
    expect((await call(`/api/v1/alerts/${open?.id}/resolve`, { method: 'POST' })).status).toBe(409);
    expect((await call(`/api/v1/alerts/${randomUUID()}/ack`, { method: 'POST' })).status).toBe(404);
    await until(async () => ((await events('acknowledged')) >= 1 ? true : undefined));
  });

  it('a restart of analytics mid-stream (SIGKILL) gives no duplicate and no missed alert', async () => {
    // Each cycle: 5 breaching then 5 normal points → exactly one alert, auto-resolved after 3 normal points.
    await rule('dev-r', { auto_resolve_after: 3, severity: 'warning' });
    await ingest('dev-r', normal, 0);
    const cycles = 30;
    for (let c = 0; c < cycles; c++) {
      if (c === 12) await stack.stopService('analytics', 'SIGKILL');
      if (c === 20) await stack.startService('analytics');
      await ingest('dev-r', [95, 96, 97, 95, 96, 20, 21, 20, 21, 20], 40 + c * 10);
    }
    const alerts = await until(async () => {
      const found = await ruleAlerts('dev-r');
      return found.length >= cycles && found.every((a) => a.status === 'resolved') ? found : undefined;
    }, 60_000).catch(async (error: unknown) => {
      if (process.env['DEBUG_E2E']) {
        const found = await ruleAlerts('dev-r');
        console.log('DEBUG', found.length, found.filter((a) => a.status !== 'resolved').length);
        console.log('DEBUG', stack.process('analytics').tail());
      }
      throw error;
    });
    // Give redeliveries of what the killed process held time to arrive: still exactly one per cycle.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await ruleAlerts('dev-r')).toHaveLength(cycles);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(cycles);
  });

  it('anomalies, summary, rollups and capacity', async () => {
    const values = Array.from({ length: 200 }, (_, i) => 50 + (i % 5) * 0.5);
    values[150] = 900;
    await ingest('dev-s', values, 0);
    const from = new Date(base - 3_600_000).toISOString();
    const to = new Date(base + 3_600_000).toISOString();
    const anomalies = await until(async () => {
      const res = await call(`/api/v1/analytics/anomalies?from=${from}&to=${to}&device=dev-s`);
      const data = res.body['data'] as { value: number; kind: string }[];
      return data.length > 0 ? data : undefined;
    });
    expect(anomalies).toEqual([expect.objectContaining({ value: 900, kind: 'spike', metric: 'temp' })]);

    const summary = await call('/api/v1/analytics/summary?minutes=5');
    expect(summary.status).toBe(200);
    const perMinute = summary.body['points_per_minute'] as { points: number }[];
    expect(perMinute).toHaveLength(5);
    expect(perMinute.reduce((s, m) => s + m.points, 0)).toBeGreaterThan(200);
    expect(summary.body['top_anomalous_devices']).toContainEqual({ device_id: 'dev-s', anomalies: 1 });
    expect(Object.keys(summary.body['active_alerts'] as object).sort()).toEqual([
      'critical',
      'info',
      'major',
      'minor',
      'warning',
    ]);

    const rollups = await until(async () => {
      const res = await call(
        `/api/v1/analytics/rollups?device=dev-s&metric=temp&from=${from}&to=${to}&agg=count,max`,
      );
      const data = (res.body['data'] ?? []) as { count: number; max: number }[];
      return data.reduce((s, b) => s + b.count, 0) === 200 ? data : undefined;
    });
    expect(Math.max(...rollups.map((b) => b.max))).toBe(900);

    const capacity = await call('/api/v1/analytics/capacity', {
      method: 'POST',
      body: JSON.stringify({ devices: 10_000, samples_per_second_per_device: 1, retention_days: 30 }),
    });
    expect(capacity.status).toBe(200);
    expect(capacity.body).toMatchObject({ points_per_second: 10_000, cores: 1 });
    expect((capacity.body['formula'] as Record<string, string>)['cores']).toContain('ceil(');
    const bad = await call('/api/v1/analytics/capacity', {
      method: 'POST',
      body: JSON.stringify({ devices: 0 }),
    });
    expect(bad.status).toBe(400);

    const perf = await fetch(`${stack.gatewayUrl}/performance/health`, {
      headers: { authorization: `Bearer ${stack.adminKey}` },
    });
    const services = ((await perf.json()) as Record<string, unknown>)['services'] as Record<
      string,
      { replicas?: { sections: Record<string, { series_tracked: number }> }[] }
    >;
    expect(services['analytics']?.replicas?.[0]?.sections['analytics']?.series_tracked).toBeGreaterThan(0);
  });
});
