import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startOtlpReceiver, type OtlpReceiver } from '@conduit/tracing/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestStack } from './support/stack.js';
import { descendsFrom, isPgQuery } from './support/trace-shape.js';

const org = `e2e-${randomUUID().slice(0, 8)}`;

async function api(stack: TestStack, path: string, init: RequestInit = {}, orgId = org) {
  const res = await fetch(`${stack.gatewayUrl}${path}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(await stack.authHeaders(orgId)),
      ...(init.headers ?? {}),
    },
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

describe('device registry through the gateway', () => {
  let receiver: OtlpReceiver;
  let stack: TestStack;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    stack = await TestStack.start({
      services: ['device-control', 'gateway'],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, LOG_LEVEL: 'info' },
    });
  });

  afterAll(async () => {
    await stack?.[Symbol.asyncDispose]();
    await receiver?.[Symbol.asyncDispose]();
  });

  it('registers a device, returns it by id and publishes device.<org>.<id>.registered', async () => {
    const created = await api(stack, '/api/v1/devices', {
      method: 'POST',
      body: JSON.stringify({
        name: 'pump 1',
        type: 'pump',
        site: 'north',
        tags: ['a'],
        metadata: { floor: 2 },
      }),
    });
    expect(created.status).toBe(201);
    const id = created.body['id'] as string;
    expect(created.body).toMatchObject({
      org_id: org,
      name: 'pump 1',
      site: 'north',
      status: 'unknown',
      tags: ['a'],
    });

    const fetched = await api(stack, `/api/v1/devices/${id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);

    const nc = await connect({ servers: stack.natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      const deadline = Date.now() + 5_000;
      let event: { device: { id: string }; version: number } | undefined;
      while (!event && Date.now() < deadline) {
        try {
          const msg = await jsm.streams.getMessage('DEVICE', {
            last_by_subj: `device.${org}.${id}.registered`,
          });
          event = msg?.json();
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      expect(event?.version).toBe(1);
      expect(event?.device.id).toBe(id);
    } finally {
      await nc.close();
    }
  });

  it('pages with next_cursor and filters by site and type', async () => {
    const pageOrg = `${org}-p`;
    for (let i = 0; i < 5; i++) {
      const res = await api(
        stack,
        '/api/v1/devices',
        {
          method: 'POST',
          body: JSON.stringify({
            id: `p-${i}`,
            name: `p${i}`,
            type: i < 3 ? 'meter' : 'valve',
            site: `s${i % 2}`,
          }),
        },
        pageOrg,
      );
      expect(res.status).toBe(201);
    }
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Record<string, unknown> } = await api(
        stack,
        `/api/v1/devices?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        {},
        pageOrg,
      );
      ids.push(...(page.body['data'] as { id: string }[]).map((d) => d.id));
      cursor = page.body['next_cursor'] as string | null;
    } while (cursor);
    expect(ids).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'p-4']);

    const filtered = await api(stack, '/api/v1/devices?site=s0&type=meter', {}, pageOrg);
    expect((filtered.body['data'] as { id: string }[]).map((d) => d.id)).toEqual(['p-0', 'p-2']);
    const otherOrg = await api(stack, '/api/v1/devices', {}, `${org}-empty`);
    expect(otherOrg.body['data']).toEqual([]);
  });

  it('answers 400 naming the bad field, for wrong types, unknown fields and malformed JSON', async () => {
    const wrongType = await api(stack, '/api/v1/devices', {
      method: 'POST',
      body: JSON.stringify({ name: 5, type: 'x' }),
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toMatchObject({ error: { code: 'validation_failed' } });
    expect(
      (wrongType.body['error'] as { details: { field: string }[] }).details.map((d) => d.field),
    ).toContain('body.name');

    const unknown = await api(stack, '/api/v1/devices', {
      method: 'POST',
      body: JSON.stringify({ name: 'a', type: 'b', colour: 'red' }),
    });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toContain('colour');

    const malformed = await api(stack, '/api/v1/devices', { method: 'POST', body: '{"name": "a",' });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({
      error: { code: 'validation_failed', message: 'body is not valid JSON', details: [{ field: 'body' }] },
    });

    const badLimit = await api(stack, '/api/v1/devices?limit=501');
    expect(badLimit.status).toBe(400);
    expect((badLimit.body['error'] as { details: { field: string }[] }).details[0]?.field).toBe(
      'query.limit',
    );
  });

  it('takes an empty application/json body as no body: DELETE works, a POST names the missing body', async () => {
    // `api` sends `content-type: application/json` with every request, as generic clients do.
    const created = await api(stack, '/api/v1/devices', {
      method: 'POST',
      body: JSON.stringify({ name: 'to delete', type: 't' }),
    });
    const id = created.body['id'] as string;
    expect((await api(stack, `/api/v1/devices/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(stack, `/api/v1/devices/${id}`)).status).toBe(404);

    const empty = await api(stack, '/api/v1/devices', { method: 'POST' });
    expect(empty.status).toBe(400);
    expect((empty.body['error'] as { details: { field: string }[] }).details.map((d) => d.field)).toEqual([
      'body',
    ]);
  });

  it('answers 404 for an unknown device and for another org’s device', async () => {
    const created = await api(stack, '/api/v1/devices', {
      method: 'POST',
      body: JSON.stringify({ name: 'mine', type: 't' }),
    });
    const missing = await api(stack, '/api/v1/devices/does-not-exist');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'not_found' } });
    const foreign = await api(stack, `/api/v1/devices/${created.body['id'] as string}`, {}, `${org}-other`);
    expect(foreign.status).toBe(404);
  });

  it('records one trace from the HTTP call through NATS into Postgres', async () => {
    const created = await api(stack, '/api/v1/devices', {
      method: 'POST',
      body: JSON.stringify({ name: 'traced', type: 't' }),
    });
    const id = created.body['id'] as string;
    receiver.clear();
    expect((await api(stack, `/api/v1/devices/${id}`)).status).toBe(200);

    const httpSpan = await receiver.waitForSpans(
      (spans) =>
        spans.find(
          (s) =>
            s.serviceName === 'gateway' &&
            s.kind === 'server' &&
            String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? '').includes(id),
        ),
      10_000,
    );
    const trace = await receiver.waitForSpans((spans) => {
      const inTrace = spans.filter((s) => s.traceId === httpSpan.traceId);
      const pg = inTrace.find((s) => s.serviceName === 'device-control' && isPgQuery(s));
      return pg ? inTrace : undefined;
    }, 10_000);

    const client = trace.find(
      (s) =>
        s.serviceName === 'gateway' &&
        s.kind === 'client' &&
        s.attributes['messaging.destination.name'] === 'svc.device.get',
    );
    const server = trace.find(
      (s) =>
        s.serviceName === 'device-control' &&
        s.kind === 'server' &&
        s.attributes['messaging.destination.name'] === 'svc.device.get',
    );
    const pg = trace.find((s) => s.serviceName === 'device-control' && isPgQuery(s));
    if (!client || !server || !pg) {
      throw new Error(
        `missing spans: ${trace.map((s) => `${s.serviceName}:${s.kind}:${s.name}`).join(', ')}`,
      );
    }
    expect(descendsFrom(client, httpSpan, trace)).toBe(true);
    expect(server.parentSpanId).toBe(client.spanId);
    expect(descendsFrom(pg, server, trace)).toBe(true);
  });

  it('logs each request as one JSON line with its request id, route and trace id', async () => {
    const requestId = `e2e-log-${randomUUID()}`;
    const res = await api(stack, '/api/v1/devices/some-device', { headers: { 'x-request-id': requestId } });
    expect(res.headers.get('x-request-id')).toBe(requestId);
    const line = await (async () => {
      for (let i = 0; i < 50; i++) {
        const found = stack
          .process('gateway')
          .output.join('')
          .split('\n')
          .find((l) => l.includes(requestId));
        if (found) return JSON.parse(found) as Record<string, unknown>;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('no log line for the request');
    })();
    expect(line).toMatchObject({
      msg: 'request completed',
      route: '/api/v1/devices/:id',
      status: 404,
      service: 'gateway',
    });
    expect(line['trace_id']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers 503 within the request timeout when device-control is down (stopped by SIGTERM, exit 0)', async () => {
    const deviceControl = stack.process('device-control');
    await stack.stopService('device-control');
    expect(deviceControl.exitCode).toBe(0);
    const started = Date.now();
    const res = await api(stack, '/api/v1/devices');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: { code: 'unavailable' } });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
