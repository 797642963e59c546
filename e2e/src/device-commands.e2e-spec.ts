import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as connectNats, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import mqtt from 'mqtt';
import { DeviceCommandTransitioned, DeviceStateReported } from '@conduit/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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

type VendorMode = 'ok' | 'fail' | 'hang';

/** A smart-lighting hub in the style the http-bridge adapter speaks to; fails or hangs on demand. */
class FakeHub implements AsyncDisposable {
  mode: VendorMode = 'ok';
  /** Command ids answered 2xx, per external id: a command delivered twice shows up twice. */
  readonly delivered = new Map<string, string[]>();
  calls = 0;
  private readonly hanging = new Set<ServerResponse>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeHub> {
    const server = createServer();
    const hub = new FakeHub(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void hub.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return hub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  deliveredTo(externalId: string): string[] {
    return this.delivered.get(externalId) ?? [];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.calls++;
    const match = /^\/lights\/([^/]+)\/state$/.exec(req.url ?? '');
    if (this.mode === 'hang') {
      this.hanging.add(res);
      return;
    }
    if (this.mode === 'fail' || !match?.[1]) {
      res.writeHead(this.mode === 'fail' ? 503 : 404).end();
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString()) as {
      command_id: string;
      params: Record<string, unknown>;
    };
    const list = this.delivered.get(match[1]) ?? [];
    list.push(body.command_id);
    this.delivered.set(match[1], list);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ state: body.params }));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

interface CommandView {
  id: string;
  status: string;
  reason: string | null;
  attempts: number;
  history: { status: string; reason: string | null }[];
}

/** Device commands end to end: gateway → device-control → vendor (HTTP hub, MQTT), with breakers. */
describe('device commands', () => {
  let stack: TestStack;
  let hub: FakeHub;
  let nats: NatsConnection;
  const org = `cmd-${randomUUID().slice(0, 8)}`;
  const env = {
    VENDOR_BREAKER_TIMEOUT_MS: '300',
    VENDOR_BREAKER_VOLUME: '3',
    VENDOR_BREAKER_ERROR_PERCENT: '50',
    VENDOR_BREAKER_RESET_MS: '1000',
    DEVICE_COMMAND_POLL_MS: '100',
    DEVICE_COMMAND_RETRY_BASE_MS: '100',
    DEVICE_COMMAND_MAX_ATTEMPTS: '100',
    DEVICE_COMMAND_ACK_TIMEOUT_MS: '1500',
    // Commands left queued by an earlier run (their hub is gone) must not linger.
    DEVICE_COMMAND_TTL_S: '60',
  };

  beforeAll(async () => {
    hub = await FakeHub.start();
    stack = await TestStack.start({ services: ['device-control', 'gateway'], env });
    nats = await connectNats({ servers: stack.natsUrl });
  });
  afterEach((ctx) => {
    // The service's own words are what explains a failed lifecycle.
    if (ctx.task.result?.state === 'fail') console.log(stack.process('device-control').tail(60));
  });
  afterAll(async () => {
    await nats?.close();
    await stack?.[Symbol.asyncDispose]();
    await hub?.[Symbol.asyncDispose]();
  });

  const call = async (
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(`${stack.gatewayUrl}${path}`, {
      method: init.method ?? 'GET',
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      headers: {
        'content-type': 'application/json',
        'cache-control': 'no-cache',
        ...(await stack.authHeaders(org)),
        ...init.headers,
      },
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
  };

  const site = async (id: string, baseUrl: string) => {
    const res = await call('/api/v1/sites', {
      method: 'POST',
      body: { id, name: id, integrations: { 'http-bridge': { base_url: baseUrl } } },
    });
    expect(res.status).toBe(201);
  };
  const device = async (vendor: string, siteId?: string) => {
    const externalId = `ext-${randomUUID().slice(0, 8)}`;
    const res = await call('/api/v1/devices', {
      method: 'POST',
      body: {
        name: 'lamp',
        type: 'light',
        vendor,
        external_id: externalId,
        ...(siteId ? { site: siteId } : {}),
      },
    });
    expect(res.status).toBe(201);
    return { id: res.body['id'] as string, externalId };
  };
  const send = async (
    deviceId: string,
    body: unknown = { action: 'set_state', params: { on: true } },
    key?: string,
  ) =>
    call(`/api/v1/devices/${deviceId}/commands`, {
      method: 'POST',
      body,
      headers: key ? { 'idempotency-key': key } : {},
    });
  const command = async (deviceId: string, id: string) =>
    (await call(`/api/v1/devices/${deviceId}/commands/${id}`)).body as unknown as CommandView;
  const settled = (deviceId: string, id: string, timeoutMs = 15_000) =>
    until(async () => {
      const c = await command(deviceId, id);
      return ['succeeded', 'failed', 'timeout', 'expired'].includes(c.status) ? c : undefined;
    }, timeoutMs);

  it('delivers through the http bridge, records every transition, and keeps the shadow', async () => {
    await site('north', hub.url);
    const lamp = await device('http-bridge', 'north');
    const sent = await send(lamp.id, { action: 'set_state', params: { on: true, level: 80 } });
    expect(sent.status).toBe(202);
    // A healthy local vendor answers within the submission's wait: the answer is already final.
    expect(sent.body).toMatchObject({ status: 'succeeded', created: true });
    const done = await command(lamp.id, sent.body['command_id'] as string);
    expect(done.history.map((h) => h.status)).toEqual(['queued', 'sent', 'delivered', 'succeeded']);
    expect(hub.deliveredTo(lamp.externalId)).toEqual([done.id]);
    const state = (await call(`/api/v1/devices/${lamp.id}/state`)).body;
    expect(state).toMatchObject({
      desired: { on: true, level: 80 },
      reported: { on: true, level: 80 },
      delta: {},
    });
    // The events Postgres built in the transition statements honour the public contract.
    const jsm = await jetstreamManager(nats);
    const last = (subject: string) =>
      until(() =>
        jsm.streams.getMessage('DEVICE', { last_by_subj: subject }).then(
          (m) => m?.json<unknown>(),
          () => undefined,
        ),
      );
    const succeeded = DeviceCommandTransitioned.schema.parse(
      await last(DeviceCommandTransitioned.subject(org, lamp.id, 'succeeded')),
    );
    expect(succeeded).toMatchObject({
      command_id: done.id,
      status: 'succeeded',
      previous: 'delivered',
      attempts: 1,
    });
    const queued = DeviceCommandTransitioned.schema.parse(
      await last(DeviceCommandTransitioned.subject(org, lamp.id, 'queued')),
    );
    expect(queued).toMatchObject({ command_id: done.id, previous: null, attempts: 0 });
    const reported = DeviceStateReported.schema.parse(await last(DeviceStateReported.subject(org, lamp.id)));
    expect(reported).toMatchObject({ command_id: done.id, reported: { on: true, level: 80 } });
  });

  it('opens the breaker on a failing vendor, answers queued at once, and delivers every queued command once after recovery', async () => {
    await site('south', hub.url);
    const lamp = await device('http-bridge', 'south');
    hub.mode = 'fail';
    const failing = [];
    for (let i = 0; i < 4; i++) failing.push(await send(lamp.id, { action: 'blink', params: { n: i } }));
    expect(failing.map((r) => r.body['status'])).toEqual(['queued', 'queued', 'queued', 'queued']);
    // The breaker has seen enough failures: further commands are not even tried.
    const callsBefore = hub.calls;
    const open = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const res = await send(lamp.id, { action: 'blink', params: { n: 10 + i } });
      open.push({ ms: performance.now() - t0, status: res.body['status'] });
    }
    expect(open.every((r) => r.status === 'queued')).toBe(true);
    // Well under the breaker's 300 ms time-out: nobody waited for the vendor (bench: p99 of the handler).
    expect(Math.max(...open.map((r) => r.ms))).toBeLessThan(150);
    expect(hub.calls - callsBefore).toBeLessThanOrEqual(1); // at most a half-open trial slipped in
    // The open breaker is visible where operators look: /performance/health, gathered over NATS.
    const perf = (await (
      await fetch(`${stack.gatewayUrl}/performance/health`, {
        headers: { authorization: `Bearer ${stack.adminKey}` },
      })
    ).json()) as { services: Record<string, { replicas?: { sections: Record<string, unknown> }[] }> };
    const breakers = perf.services['device-control']?.replicas?.[0]?.sections['breakers'];
    expect(breakers).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: `http-bridge:${org}:south`, state: 'open' })]),
    );
    hub.mode = 'ok';
    const ids = [...failing, ...open.map((_, i) => i)].length;
    const all = await until(async () => {
      const page = (await call(`/api/v1/devices/${lamp.id}/commands?limit=100`)).body[
        'data'
      ] as CommandView[];
      return page.length === ids && page.every((c) => c.status === 'succeeded') ? page : undefined;
    }, 20_000);
    const delivered = hub.deliveredTo(lamp.externalId);
    expect(delivered.toSorted()).toEqual(all.map((c) => c.id).toSorted());
    expect(new Set(delivered).size).toBe(delivered.length);
  });

  it('one Idempotency-Key creates one command', async () => {
    await site('east', hub.url);
    const lamp = await device('http-bridge', 'east');
    const key = `k-${randomUUID()}`;
    const first = await send(lamp.id, { action: 'reboot' }, key);
    const second = await send(lamp.id, { action: 'reboot' }, key);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ command_id: first.body['command_id'], created: false });
    const page = (await call(`/api/v1/devices/${lamp.id}/commands`)).body['data'] as unknown[];
    expect(page).toHaveLength(1);
    expect(hub.deliveredTo(lamp.externalId)).toHaveLength(1);
  });

  it('expires a command whose deadline passes while its vendor is unreachable', async () => {
    await site('west', 'http://127.0.0.1:9'); // discard port: nothing answers
    const lamp = await device('http-bridge', 'west');
    const sent = await send(lamp.id, { action: 'blink', ttl_s: 1 });
    expect(sent.body['status']).toBe('queued');
    const done = await settled(lamp.id, sent.body['command_id'] as string);
    expect(done.status).toBe('expired');
    expect(done.reason).toMatch(/deadline/);
    expect(done.attempts).toBeGreaterThan(0);
  });

  it('refuses commands for a device without a known vendor, naming the field', async () => {
    const res = await call('/api/v1/devices', { method: 'POST', body: { name: 'x', type: 'x' } });
    const sent = await send(res.body['id'] as string);
    expect(sent.status).toBe(409);
    expect(JSON.stringify(sent.body)).toContain('vendor');
    const bad = await send(res.body['id'] as string, { action: '', params: 3 });
    expect(bad.status).toBe(400);
    const fields = (bad.body['error'] as { details: { field: string }[] }).details.map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['body.action', 'body.params']));
    const missing = await send(`no-such-${randomUUID().slice(0, 8)}`);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(missing.body)).toContain('not found');
  });

  it('round-trips over MQTT with a device that acks; a silent device ends timeout', async () => {
    const lamp = await device('mqtt');
    const silent = await device('mqtt');
    const sim = await mqtt.connectAsync('mqtt://127.0.0.1:1883', {
      clientId: `sim-${randomUUID().slice(0, 8)}`,
    });
    try {
      await sim.subscribeAsync(`devices/${lamp.externalId}/commands`, { qos: 1 });
      sim.on('message', (_topic, payload) => {
        const cmd = JSON.parse(payload.toString()) as { command_id: string; params: Record<string, unknown> };
        void sim.publishAsync(
          `devices/${lamp.externalId}/acks`,
          JSON.stringify({ command_id: cmd.command_id, status: 'succeeded', state: cmd.params }),
          { qos: 1 },
        );
      });
      const sent = await send(lamp.id, { action: 'set_state', params: { on: false } });
      expect(sent.status).toBe(202);
      const done = await settled(lamp.id, sent.body['command_id'] as string);
      expect(done.status).toBe('succeeded');
      expect(done.history.map((h) => h.status)).toEqual(['queued', 'sent', 'delivered', 'succeeded']);
      const state = (await call(`/api/v1/devices/${lamp.id}/state`)).body;
      expect(state).toMatchObject({ reported: { on: false }, desired: { on: false }, delta: {} });

      const unanswered = await send(silent.id, { action: 'ping' });
      // Another device acking it on its own topic (it can publish there) moves nothing: an ack
      // counts only from the device the command is for.
      await sim.publishAsync(
        `devices/${lamp.externalId}/acks`,
        JSON.stringify({
          command_id: unanswered.body['command_id'],
          status: 'succeeded',
          state: { on: true },
        }),
        { qos: 1 },
      );
      const timedOut = await settled(silent.id, unanswered.body['command_id'] as string);
      expect(timedOut.status).toBe('timeout');
      expect(timedOut.history.map((h) => h.status)).toEqual(['queued', 'sent', 'timeout']);
      expect((await call(`/api/v1/devices/${silent.id}/state`)).body['reported']).toEqual({});
    } finally {
      await sim.endAsync();
    }
  });

  it('delivers every queued command after device-control is SIGKILLed and restarted', async () => {
    await site('killed', hub.url);
    const lamp = await device('http-bridge', 'killed');
    hub.mode = 'hang';
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await send(lamp.id, { action: 'blink', params: { n: i } })).body['command_id'] as string);
    await stack.stopService('device-control', 'SIGKILL');
    hub.mode = 'ok';
    await stack.startService('device-control', env);
    for (const id of ids) expect((await settled(lamp.id, id, 30_000)).status).toBe('succeeded');
    const delivered = hub.deliveredTo(lamp.externalId);
    expect(delivered.toSorted()).toEqual(ids.toSorted());
  });

  it('two device-control replicas share the queue and deliver every command exactly once', async () => {
    await stack.startService('device-control', env, 'device-control#2');
    try {
      await site('shared', hub.url);
      const lamp = await device('http-bridge', 'shared');
      hub.mode = 'fail';
      // Queued on either replica (the gateway's requests spread over the queue group).
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        ids.push((await send(lamp.id, { action: 'blink', params: { n: i } })).body['command_id'] as string);
      }
      hub.mode = 'ok';
      for (const id of ids) expect((await settled(lamp.id, id, 30_000)).status).toBe('succeeded');
      const delivered = hub.deliveredTo(lamp.externalId);
      expect(delivered.toSorted()).toEqual(ids.toSorted());
      // Both replicas took part: each writes its own handler metrics.
      const served = async (replica: string) => {
        const text = await (await fetch(`${stack.url(replica)}/metrics`)).text();
        return /svc\.device\.commands\.create/.test(text);
      };
      expect(await served('device-control')).toBe(true);
      expect(await served('device-control#2')).toBe(true);
    } finally {
      await stack.stopService('device-control#2');
    }
  });
});
