import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestStack } from './support/stack.js';

const until = async <T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** device-control follows telemetry with its own durable consumer: last_seen, online, offline. */
describe('device presence from telemetry', () => {
  let stack: TestStack;
  let nats: NatsConnection;
  const org = `pr-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    stack = await TestStack.start({
      services: ['device-control', 'gateway'],
      env: {
        DEVICE_OFFLINE_AFTER_S: '2',
        DEVICE_OFFLINE_CHECK_MS: '250',
        DEVICE_PRESENCE_BATCH_WAIT_MS: '50',
      },
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
        'content-type': 'application/json',
        'cache-control': 'no-cache',
        ...(await stack.authHeaders(org)),
      },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const statusEvents = async (id: string): Promise<number> => {
    const jsm = await jetstreamManager(nats);
    const info = await jsm.streams.info('DEVICE', { subjects_filter: `device.${org}.${id}.status_changed` });
    return info.state.subjects?.[`device.${org}.${id}.status_changed`] ?? 0;
  };

  it('telemetry sets last_seen and online; silence turns the device offline; each change is an event', async () => {
    const created = await call('/api/v1/devices', {
      method: 'POST',
      body: JSON.stringify({ name: 'meter', type: 'meter' }),
    });
    expect(created.status).toBe(201);
    const id = created.body['id'] as string;
    expect(created.body['status']).toBe('unknown');
    expect(created.body['last_seen']).toBeNull();

    const before = Date.now();
    const sent = await call('/api/v1/telemetry', {
      method: 'POST',
      body: JSON.stringify({ device_id: id, data: { kwh: 1.5 } }),
    });
    expect(sent.status).toBe(202);
    const online = await until(async () => {
      const d = await call(`/api/v1/devices/${id}`);
      return d.body['status'] === 'online' ? d.body : undefined;
    });
    expect(Date.parse(online['last_seen'] as string)).toBeGreaterThanOrEqual(before - 1_000);

    await until(async () =>
      (await call(`/api/v1/devices/${id}`)).body['status'] === 'offline' ? true : undefined,
    );
    await until(async () => ((await statusEvents(id)) >= 2 ? true : undefined));
    const jsm = await jetstreamManager(nats);
    const last = (
      await jsm.streams.getMessage('DEVICE', { last_by_subj: `device.${org}.${id}.status_changed` })
    )?.json<Record<string, unknown>>();
    expect(last).toMatchObject({
      version: 1,
      org_id: org,
      device_id: id,
      status: 'offline',
      previous: 'online',
    });

    // Heard from again: online again, one more event.
    await call('/api/v1/telemetry', {
      method: 'POST',
      body: JSON.stringify({ device_id: id, data: { kwh: 2 } }),
    });
    await until(async () =>
      (await call(`/api/v1/devices/${id}`)).body['status'] === 'online' ? true : undefined,
    );
    await until(async () => ((await statusEvents(id)) >= 3 ? true : undefined));
  });

  it('batches many devices into one update and ignores telemetry of unknown devices', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const d = await call('/api/v1/devices', {
        method: 'POST',
        body: JSON.stringify({ name: `m${i}`, type: 'meter' }),
      });
      ids.push(d.body['id'] as string);
    }
    const points = [...ids, 'not-registered'].flatMap((device_id) => [
      { device_id, metric: 'kwh', ts: Date.now(), value: 1 },
    ]);
    expect(
      (await call('/api/v1/telemetry/batch', { method: 'POST', body: JSON.stringify({ points }) })).status,
    ).toBe(202);
    await until(async () => {
      const page = await call(`/api/v1/devices?status=online&limit=500`);
      const online = new Set((page.body['data'] as { id: string }[]).map((d) => d.id));
      return ids.every((id) => online.has(id)) ? true : undefined;
    });
  });
});
