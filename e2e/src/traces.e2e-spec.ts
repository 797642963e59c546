import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '@conduit/tracing/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestStack } from './support/stack.js';
import { describeSpans, descendsFrom, isPgQuery } from './support/trace-shape.js';

const pathOf = (s: ReceivedSpan) => String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? '');

/** The shape of the traces users inspect in Jaeger, hop by hop, from a real OTLP export. */
describe('traces across every hop', () => {
  let receiver: OtlpReceiver;
  let stack: TestStack;
  const org = `tr-${randomUUID().slice(0, 8)}`;
  const traceparents: string[] = [];
  const hub = createServer((req: IncomingMessage, res: ServerResponse) => {
    traceparents.push(String(req.headers['traceparent'] ?? ''));
    if (req.url?.endsWith('/chat/completions')) {
      // An OpenAI-compatible provider for the LLM run.
      req.resume();
      req.on('end', () =>
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(
            '{"choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}',
          ),
      );
      return;
    }
    req.resume();
    req.on('end', () =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"state":{"on":true}}'),
    );
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    receiver = await startOtlpReceiver();
    stack = await TestStack.start({
      services: ['device-control', 'telemetry', 'analytics', 'llm-experiments', 'gateway'],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER_RATIO: '1' },
    });
  });
  afterAll(async () => {
    await stack?.[Symbol.asyncDispose]();
    await receiver?.[Symbol.asyncDispose]();
    hub.closeAllConnections();
    await new Promise((resolve) => hub.close(resolve));
  });

  const call = async (path: string, body?: unknown) => {
    const res = await fetch(`${stack.gatewayUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(await stack.authHeaders(org)) },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  /** The gateway's server span of the request to `path`, and every span of its trace once `ready` holds. */
  const traceOf = async (path: string, ready: (spans: ReceivedSpan[]) => boolean) => {
    const root = await receiver.waitForSpans(
      (spans) => spans.find((s) => s.serviceName === 'gateway' && s.kind === 'server' && pathOf(s) === path),
      15_000,
    );
    const spans = await receiver.waitForSpans((all) => {
      const inTrace = all.filter((s) => s.traceId === root.traceId);
      return ready(inTrace) ? inTrace : undefined;
    }, 15_000);
    return { root, spans };
  };

  it('ingest: HTTP → JetStream publish → the writer batch (linked to the publish) → Postgres', async () => {
    const device = `dev-${randomUUID().slice(0, 8)}`;
    receiver.clear();
    const ts = Date.now();
    const res = await call('/api/v1/telemetry/batch', {
      points: [0, 1, 2].map((i) => ({
        device_id: device,
        metric: 'temp',
        ts: new Date(ts + i).toISOString(),
        value: i,
      })),
    });
    expect(res.status).toBe(202);
    const { root, spans } = await traceOf('/api/v1/telemetry/batch', (inTrace) =>
      inTrace.some((s) => s.serviceName === 'gateway' && s.kind === 'producer'),
    );
    const publish = spans.find(
      (s) =>
        s.kind === 'producer' &&
        s.attributes['messaging.destination.name'] === `telemetry.ingest.${org}.${device}`,
    );
    if (!publish) throw new Error(`no publish span: ${describeSpans(spans)}`);
    expect(descendsFrom(publish, root, spans)).toBe(true);
    expect(publish.attributes['messaging.system']).toBe('nats');
    // The writer's batch span: in the same trace (a batch of one) or in its own, linked to the publish.
    const batch = await receiver.waitForSpans(
      (all) =>
        all.find(
          (s) =>
            s.serviceName === 'telemetry' &&
            s.kind === 'consumer' &&
            (s.parentSpanId === publish.spanId || s.links.some((l) => l.spanId === publish.spanId)),
        ),
      15_000,
    );
    expect(batch.attributes['messaging.consumer.group.name']).toBe('telemetry-writer');
    const writes = await receiver.waitForSpans((all) => {
      const inBatch = all.filter((s) => s.traceId === batch.traceId);
      const pg = inBatch.filter((s) => isPgQuery(s) && descendsFrom(s, batch, inBatch));
      return pg.length ? pg : undefined;
    }, 15_000);
    expect(writes.every((s) => s.serviceName === 'telemetry')).toBe(true);
  });

  it('command: HTTP → NATS request → device-control → Postgres and the vendor HTTP call, traceparent included', async () => {
    const site = await call('/api/v1/sites', {
      id: 'traced',
      name: 'traced',
      integrations: {
        'http-bridge': { base_url: `http://127.0.0.1:${(hub.address() as AddressInfo).port}` },
      },
    });
    expect(site.status).toBe(201);
    const device = await call('/api/v1/devices', {
      name: 'lamp',
      type: 'light',
      vendor: 'http-bridge',
      external_id: 'lamp-traced',
      site: 'traced',
    });
    const path = `/api/v1/devices/${String(device.body['id'])}/commands`;
    receiver.clear();
    traceparents.length = 0;
    const sent = await call(path, { action: 'set_state', params: { on: true } });
    expect(sent.body['status']).toBe('succeeded');
    // Each service exports in its own batches: wait for the RPC server span too, which ends
    // after the vendor call it contains.
    const { root, spans } = await traceOf(
      path,
      (inTrace) =>
        inTrace.some((s) => s.serviceName === 'device-control' && s.kind === 'client' && !isPgQuery(s)) &&
        inTrace.some(
          (s) =>
            s.kind === 'server' &&
            s.attributes['messaging.destination.name'] === 'svc.device.commands.create',
        ),
    );
    const rpcClient = spans.find(
      (s) =>
        s.kind === 'client' && s.attributes['messaging.destination.name'] === 'svc.device.commands.create',
    );
    const rpcServer = spans.find(
      (s) =>
        s.kind === 'server' && s.attributes['messaging.destination.name'] === 'svc.device.commands.create',
    );
    const vendorCall = spans.find(
      (s) => s.serviceName === 'device-control' && s.kind === 'client' && !isPgQuery(s),
    );
    const pg = spans.find((s) => s.serviceName === 'device-control' && isPgQuery(s));
    if (!rpcClient || !rpcServer || !vendorCall || !pg)
      throw new Error(`missing spans: ${describeSpans(spans)}`);
    expect(descendsFrom(rpcClient, root, spans)).toBe(true);
    expect(rpcServer.parentSpanId).toBe(rpcClient.spanId);
    expect(descendsFrom(vendorCall, rpcServer, spans)).toBe(true);
    expect(descendsFrom(pg, rpcServer, spans)).toBe(true);
    // The vendor received the trace context of that very call.
    expect(traceparents).toHaveLength(1);
    expect(traceparents[0]).toContain(root.traceId);
  });

  it('command over MQTT: the publish to the broker is a producer span of the delivery', async () => {
    const externalId = `ext-${randomUUID().slice(0, 8)}`;
    const device = await call('/api/v1/devices', {
      name: 'plug',
      type: 'plug',
      vendor: 'mqtt',
      external_id: externalId,
    });
    const sim = await mqtt.connectAsync('mqtt://127.0.0.1:1883', {
      clientId: `sim-${randomUUID().slice(0, 8)}`,
    });
    try {
      await sim.subscribeAsync(`devices/${externalId}/commands`, { qos: 1 });
      const path = `/api/v1/devices/${String(device.body['id'])}/commands`;
      receiver.clear();
      expect((await call(path, { action: 'ping' })).status).toBe(202);
      const isRpcServer = (s: ReceivedSpan) =>
        s.kind === 'server' && s.attributes['messaging.destination.name'] === 'svc.device.commands.create';
      const { spans } = await traceOf(
        path,
        (inTrace) =>
          inTrace.some((s) => s.attributes['messaging.system'] === 'mqtt') && inTrace.some(isRpcServer),
      );
      const publish = spans.find((s) => s.attributes['messaging.system'] === 'mqtt');
      const rpcServer = spans.find(isRpcServer);
      if (!publish || !rpcServer) throw new Error(`missing spans: ${describeSpans(spans)}`);
      expect(publish.kind).toBe('producer');
      expect(publish.attributes['messaging.destination.name']).toBe(`devices/${externalId}/commands`);
      expect(descendsFrom(publish, rpcServer, spans)).toBe(true);
    } finally {
      await sim.endAsync();
    }
  });
  it('LLM run: HTTP → NATS → llm-experiments → the provider HTTP call, traceparent included', async () => {
    const port = (hub.address() as AddressInfo).port;
    expect(
      (
        await call('/api/v1/providers', {
          id: 'traced',
          kind: 'openai',
          name: 'traced',
          base_url: `http://127.0.0.1:${port}/v1`,
          default_model: 'm',
        })
      ).status,
    ).toBe(201);
    const experiment = await call('/api/v1/experiments', {
      name: 'traced',
      variants: [
        { key: 'control', provider_id: 'traced', prompt: 'say {{x}}', weight: 1 },
        { key: 'b', provider_id: 'traced', prompt: 'tell {{x}}', weight: 1 },
      ],
      primary_metric: { name: 'score', kind: 'mean' },
    });
    expect(experiment.status).toBe(201);
    const id = String(experiment.body['id']);
    const start = await fetch(`${stack.gatewayUrl}/api/v1/experiments/${id}`, {
      method: 'PATCH',
      body: JSON.stringify({ status: 'running' }),
      headers: { 'content-type': 'application/json', ...(await stack.authHeaders(org)) },
    });
    expect(start.status).toBe(200);
    const path = `/api/v1/experiments/${id}/run`;
    receiver.clear();
    traceparents.length = 0;
    expect((await call(path, { unit_id: 'u1', variables: { x: 'hi' } })).status).toBe(200);
    const isProviderCall = (s: ReceivedSpan) =>
      s.serviceName === 'llm-experiments' &&
      s.kind === 'client' &&
      !isPgQuery(s) &&
      s.attributes['db.system.name'] !== 'redis' &&
      s.attributes['db.system'] !== 'redis';
    const isRpcServer = (s: ReceivedSpan) =>
      s.serviceName === 'llm-experiments' &&
      s.kind === 'server' &&
      s.attributes['messaging.destination.name'] === 'svc.llm.experiments.run';
    // The RPC server span ends after the provider call it contains, maybe in a later export.
    const { root, spans } = await traceOf(
      path,
      (inTrace) => inTrace.some(isProviderCall) && inTrace.some(isRpcServer),
    );
    const rpcServer = spans.find(isRpcServer);
    const providerCall = spans.find(isProviderCall);
    if (!rpcServer || !providerCall) throw new Error(`missing spans: ${describeSpans(spans)}`);
    expect(descendsFrom(rpcServer, root, spans)).toBe(true);
    expect(descendsFrom(providerCall, rpcServer, spans)).toBe(true);
    expect(traceparents.some((t) => t.includes(root.traceId))).toBe(true);
  });

  it('alert raising: the analytics batch span writes to Postgres and publishes alert.<org>.raised', async () => {
    const device = `hot-${randomUUID().slice(0, 8)}`;
    const rule = await call('/api/v1/alert-rules', {
      name: 'hot',
      metric: 'temp',
      scope: { device_ids: [device] },
      condition: { op: 'gt', threshold: 80 },
      severity: 'major',
    });
    expect(rule.status).toBe(201);
    receiver.clear();
    const ts = Date.now();
    expect(
      (
        await call('/api/v1/telemetry/batch', {
          points: [{ device_id: device, metric: 'temp', ts: new Date(ts).toISOString(), value: 99 }],
        })
      ).status,
    ).toBe(202);
    const publish = await receiver.waitForSpans(
      (all) =>
        all.find(
          (s) =>
            s.serviceName === 'analytics' &&
            s.kind === 'producer' &&
            s.attributes['messaging.destination.name'] === `alert.${org}.raised`,
        ),
      20_000,
    );
    // The batch span and its queries may reach the receiver in a later export than the publish.
    const isBatch = (s: ReceivedSpan) => s.serviceName === 'analytics' && s.kind === 'consumer';
    const spans = await receiver
      .waitForSpans((all) => {
        const inTrace = all.filter((s) => s.traceId === publish.traceId);
        const found = inTrace.find(isBatch);
        return found && inTrace.some((s) => isPgQuery(s) && descendsFrom(s, found, inTrace))
          ? inTrace
          : undefined;
      }, 15_000)
      .catch(() => receiver.spans().filter((s) => s.traceId === publish.traceId));
    const batch = spans.find(isBatch);
    if (!batch) throw new Error(`no analytics batch span in the alert's trace: ${describeSpans(spans)}`);
    expect(batch.attributes['messaging.consumer.group.name']).toBe('analytics-anomaly');
    expect(descendsFrom(publish, batch, spans)).toBe(true);
    expect(
      spans.some((s) => s.serviceName === 'analytics' && isPgQuery(s) && descendsFrom(s, batch, spans)),
    ).toBe(true);
  });
});
