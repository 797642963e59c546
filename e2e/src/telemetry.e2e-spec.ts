import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestStack } from './support/stack.js';

const org = `tel-${randomUUID().slice(0, 8)}`;
const HOUR = 3_600_000;

describe('telemetry through the gateway', () => {
  let stack: TestStack;
  const base = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
  const from = new Date(base - HOUR).toISOString();
  const to = new Date(base + 2 * HOUR).toISOString();

  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${stack.gatewayUrl}${path}`, {
      ...init,
      headers: {
        'content-type': 'application/json',
        ...(await stack.authHeaders(org)),
        ...(init.headers ?? {}),
      },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const until = async <T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error('not reached in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const rawPoints = async (device: string) =>
    ((await call(`/api/v1/telemetry/${device}?from=${from}&to=${to}&limit=10000`)).body['data'] ??
      []) as unknown[];

  beforeAll(async () => {
    stack = await TestStack.start({ services: ['telemetry', 'gateway'] });
  });

  afterAll(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('accepts a batch with 202 once durable, and the points become queryable', async () => {
    const points = Array.from({ length: 300 }, (_, i) => ({
      device_id: `dev-${i % 3}`,
      metric: i % 2 ? 'temp' : 'hum',
      ts: new Date(base + i * 10_000).toISOString(),
      value: i,
    }));
    const accepted = await call('/api/v1/telemetry/batch', {
      method: 'POST',
      body: JSON.stringify({ points }),
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body['accepted']).toBe(300);

    const stored = await until(async () =>
      (await rawPoints('dev-0')).length === 100 ? rawPoints('dev-0') : undefined,
    );
    expect(stored).toHaveLength(100);
    const latest = await call('/api/v1/telemetry/dev-0/latest');
    expect((latest.body['data'] as { metric: string }[]).map((d) => d.metric).sort()).toEqual([
      'hum',
      'temp',
    ]);
    const buckets = await call(
      `/api/v1/telemetry/dev-0?from=${from}&to=${to}&interval=1h&agg=count,max&metric=temp`,
    );
    const total = (buckets.body['data'] as { count: number }[]).reduce((sum, b) => sum + b.count, 0);
    expect(total).toBe(50);
    // A range over TELEMETRY_RAW_BUCKETS_MAX_HOURS (6 h) reads the 5-minute rollups, and answers
    // exactly what the raw points give over the short range that holds them all.
    const wide = await call(
      `/api/v1/telemetry/dev-0?from=${new Date(base - 10 * HOUR).toISOString()}&to=${to}&interval=15m&agg=count,sum,min,max,avg&metric=temp`,
    );
    const narrow = await call(
      `/api/v1/telemetry/dev-0?from=${from}&to=${to}&interval=15m&agg=count,sum,min,max,avg&metric=temp`,
    );
    expect(wide.body['source']).toBe('points_5m');
    expect(narrow.body['source']).toBe('points');
    expect(wide.body['data']).toEqual(narrow.body['data']);
    expect((wide.body['data'] as unknown[]).length).toBeGreaterThan(1);
  });

  it('stores an identical retry once (message ids derived from the batch)', async () => {
    const body = JSON.stringify({
      points: Array.from({ length: 10 }, (_, i) => ({
        device_id: 'retry',
        metric: 'm',
        ts: base + i * 1000,
        value: i,
      })),
    });
    const first = await call('/api/v1/telemetry/batch', { method: 'POST', body });
    const second = await call('/api/v1/telemetry/batch', { method: 'POST', body });
    expect(second.body['batch_id']).toBe(first.body['batch_id']);
    await until(async () => ((await rawPoints('retry')).length >= 10 ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    expect(await rawPoints('retry')).toHaveLength(10);
  });

  it('refuses invalid points naming them, and more points than allowed with 413', async () => {
    const bad = await call('/api/v1/telemetry/batch', {
      method: 'POST',
      body: JSON.stringify({ points: [{ device_id: 'x', metric: 'm', ts: 'yesterday', value: 1 }] }),
    });
    expect(bad.status).toBe(400);
    expect((bad.body['error'] as { details: { field: string }[] }).details[0]?.field).toBe(
      'body.points.0.ts',
    );
    const many = Array.from({ length: 100_001 }, (_, i) => ({
      device_id: 'x',
      metric: 'm',
      ts: i,
      value: 1,
    }));
    const tooMany = await call('/api/v1/telemetry/batch', {
      method: 'POST',
      body: JSON.stringify({ points: many }),
    });
    expect(tooMany.status).toBe(413);
  });

  it('dead-letters a malformed message published straight onto NATS and keeps writing', async () => {
    const nc = await connect({ servers: stack.natsUrl });
    try {
      const js = jetstream(nc);
      const h = natsHeaders();
      await js.publish(
        `telemetry.ingest.${org}.direct`,
        new TextEncoder().encode('{"version":1,"points":[{"metric":"m"}]}'),
        {
          headers: h,
        },
      );
      await js.publish(
        `telemetry.ingest.${org}.direct`,
        new TextEncoder().encode(
          JSON.stringify({ version: 1, points: [{ metric: 'm', ts: base, value: 7 }] }),
        ),
      );
      const jsm = await jetstreamManager(nc);
      const dead = await until(async () => {
        const msg = await jsm.streams
          .getMessage('DLQ', { last_by_subj: 'dlq.TELEMETRY.telemetry-writer' })
          .catch(() => null);
        return msg ?? undefined;
      });
      expect(dead.header.get('Conduit-Dlq-Reason')).toMatch(/^schema: points\.0\.(ts|value)/);
      expect(dead.header.get('Conduit-Dlq-Subject')).toBe(`telemetry.ingest.${org}.direct`);
      expect(await until(async () => ((await rawPoints('direct')).length === 1 ? true : undefined))).toBe(
        true,
      );
    } finally {
      await nc.close();
    }
  });
});
