import { Body, Controller, Get, Module, Param, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { withSpan } from '@conduit/tracing';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { PinoLogger } from 'nestjs-pino';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpService } from './create-http-service.js';
import { LoggingModule } from './logging.module.js';
import { ObservabilityModule } from './observability.module.js';
import { ReadinessRegistry } from './readiness.registry.js';

type LogLine = Record<string, unknown> & { msg?: string };

const lines: LogLine[] = [];
const destination = { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) };
const spans = new InMemorySpanExporter();

@Controller('things')
class ThingsController {
  constructor(private readonly logger: PinoLogger) {}

  @Post()
  create(@Body() body: { id: string }): Promise<{ id: string }> {
    // Runs after the body was read, from the request stream's events: still in the request's span?
    return withSpan('create-thing', {}, () => ({ id: body.id }));
  }

  @Get('broken/always')
  broken(): never {
    throw new Error('thing store unreachable');
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<{ id: string }> {
    return withSpan('load-thing', {}, () => {
      this.logger.info({ thing: id }, 'loading thing');
      return { id };
    });
  }
}

@Module({
  imports: [
    LoggingModule.forRoot({ level: 'info', serviceName: 'obs-test', destination }),
    ObservabilityModule.forRoot({ serviceName: 'obs-test' }),
  ],
  controllers: [ThingsController],
})
class TestModule {}

/** The value of the sample `name{labels}` in a Prometheus text exposition (label order ignored). */
function sample(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of exposition.split('\n')) {
    const match = /^([^{ ]+)\{(.*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const present = new Set(match[2]?.split(/,(?=[a-z_]+=")/));
    if (wanted.length === present.size && wanted.every((l) => present.has(l))) return Number(match[3]);
  }
  return undefined;
}

/** Polls until `find` returns something (the hooks log and observe after the reply is sent). */
async function eventually<T>(find: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const found = await find();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never saw ${what}`);
}

describe(ObservabilityModule.name, () => {
  let sut: NestFastifyApplication;
  let base: string;
  let dependencyUp = false;

  beforeAll(async () => {
    // What the NodeSDK would install: a provider and async context, so spans are active in handlers.
    trace.setGlobalTracerProvider(
      new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] }),
    );
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    sut = await createHttpService(TestModule, { host: '127.0.0.1', port: 0, handleSignals: false });
    sut.get(ReadinessRegistry).register('always', async () => undefined);
    sut.get(ReadinessRegistry).register('flaky-db', async () => {
      if (!dependencyUp) throw new Error('connection refused');
    });
    sut
      .get(ReadinessRegistry)
      .register('hanging-cache', () => new Promise(() => undefined), { timeoutMs: 50 });
    base = `http://127.0.0.1:${(sut.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await sut?.close();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('answers /health 200 while the process runs', async () => {
    const res = await fetch(`${base}/health`);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz 503 naming each failing check with its error, then 200 once they pass', async () => {
    dependencyUp = false;
    const down = await fetch(`${base}/readyz`);

    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({
      status: 'error',
      checks: {
        always: { status: 'up' },
        'flaky-db': { status: 'down', message: 'connection refused' },
        'hanging-cache': { status: 'down', message: 'no answer within 50 ms' },
      },
    });

    dependencyUp = true;
    sut.get(ReadinessRegistry).register('hanging-cache', async () => undefined);
    const up = await fetch(`${base}/readyz`);

    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({
      status: 'ok',
      checks: { always: { status: 'up' }, 'flaky-db': { status: 'up' }, 'hanging-cache': { status: 'up' } },
    });
  });

  it('labels the request histogram with the route pattern, not the URL, and 404s as unmatched', async () => {
    expect((await fetch(`${base}/things/abc-123`)).status).toBe(200);
    expect((await fetch(`${base}/no/such/route`)).status).toBe(404);

    const metrics = await eventually(async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return text.includes('route="unmatched"') ? text : undefined;
    }, 'the 404 in /metrics');
    const series = { method: 'GET', service: 'obs-test' };
    expect(
      sample(metrics, 'http_server_request_duration_seconds_count', {
        ...series,
        route: '/things/:id',
        status_code: '200',
      }),
    ).toBe(1);
    expect(
      sample(metrics, 'http_server_request_duration_seconds_bucket', {
        ...series,
        route: 'unmatched',
        status_code: '404',
        le: '+Inf',
      }),
    ).toBe(1);
    expect(metrics).not.toContain('abc-123');
    expect(sample(metrics, 'process_cpu_seconds_total', { service: 'obs-test' })).toBeGreaterThan(0);
  });

  it('echoes the caller x-request-id, or a generated UUID, and logs requests with it', async () => {
    const given = await fetch(`${base}/things/one`, { headers: { 'x-request-id': 'req-42' } });
    const generated = await fetch(`${base}/things/two`);

    expect(given.headers.get('x-request-id')).toBe('req-42');
    expect(generated.headers.get('x-request-id')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    const completed = await eventually(
      () => lines.find((l) => l.msg === 'request completed' && l['request_id'] === 'req-42'),
      'the request completed line',
    );
    expect(completed).toMatchObject({
      service: 'obs-test',
      route: '/things/:id',
      status: 200,
      method: 'GET',
    });
  });

  it('puts trace_id and span_id of the active span on log lines, and never logs headers or credentials', async () => {
    spans.reset();
    await fetch(`${base}/things/traced`, {
      headers: {
        'x-request-id': 'req-traced',
        authorization: 'Bearer secret-token',
        'x-api-key': 'secret-key',
        cookie: 'session=secret-cookie',
      },
    });

    const line = lines.find((l) => l.msg === 'loading thing' && l['thing'] === 'traced');
    const span = spans.getFinishedSpans().find((s) => s.name === 'load-thing');
    expect(line?.['trace_id']).toBe(span?.spanContext().traceId);
    expect(line?.['span_id']).toBe(span?.spanContext().spanId);
    expect(line?.['req']).toEqual({ id: 'req-traced', method: 'GET', url: '/things/traced' });
    expect(JSON.stringify(lines)).not.toMatch(/secret-(token|key|cookie)/);
  });

  it('makes one server span per request, named by route, around the handler (GET and POST with a body)', async () => {
    spans.reset();
    await fetch(`${base}/things/s-1?verbose=1`, { headers: { 'x-request-id': 'req-span' } });
    // The body comes 50 ms after the headers, in its own packet: the handler then runs from a
    // later socket read, not from the `onRequest` chain that entered the span's context.
    const posted = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/things`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.flushHeaders();
      setTimeout(() => req.end(JSON.stringify({ id: 'p-1' })), 50);
    });
    expect(posted).toBe(201);

    const finished = () => spans.getFinishedSpans();
    const server = await eventually(
      () => finished().find((s) => s.kind === SpanKind.SERVER && s.attributes['url.path'] === '/things/s-1'),
      'the GET server span',
    );
    expect(server.name).toBe('GET /things/:id');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/things/:id',
      'url.query': 'verbose=1',
      'http.response.status_code': 200,
    });
    const load = finished().find((s) => s.name === 'load-thing');
    expect(load?.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    const postServer = await eventually(
      () => finished().find((s) => s.kind === SpanKind.SERVER && s.name === 'POST /things'),
      'the POST server span',
    );
    const create = finished().find((s) => s.name === 'create-thing');
    expect(create?.parentSpanContext?.spanId).toBe(postServer.spanContext().spanId);
    expect(create?.spanContext().traceId).toBe(postServer.spanContext().traceId);
    // The request line, written after the response, carries the request's trace.
    const completed = await eventually(
      () => lines.find((l) => l.msg === 'request completed' && l['request_id'] === 'req-span'),
      'the request completed line',
    );
    expect(completed['trace_id']).toBe(server.spanContext().traceId);
  });

  it('continues an incoming traceparent, marks 5xx as errors, and makes no span for probes', async () => {
    spans.reset();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parentId = 'b7ad6b7169203331';
    await fetch(`${base}/things/child`, { headers: { traceparent: `00-${traceId}-${parentId}-01` } });
    expect((await fetch(`${base}/things/broken/always`)).status).toBe(500);
    for (const probe of ['/health', '/readyz', '/metrics']) await fetch(`${base}${probe}`);

    const server = (path: string) =>
      spans.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.attributes['url.path'] === path);
    const child = await eventually(() => server('/things/child'), 'the continued span');
    expect(child.spanContext().traceId).toBe(traceId);
    expect(child.parentSpanContext?.spanId).toBe(parentId);
    const broken = await eventually(() => server('/things/broken/always'), 'the 500 span');
    expect(broken.status.code).toBe(SpanStatusCode.ERROR);
    expect(broken.attributes['http.response.status_code']).toBe(500);
    expect(child.status.code).toBe(SpanStatusCode.UNSET);
    expect(spans.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER)).toHaveLength(2);
  });

  it('writes no request line for /health, /readyz and /metrics', async () => {
    for (const path of ['/health', '/readyz', '/metrics']) await fetch(`${base}${path}`);
    await fetch(`${base}/things/after-probes`, { headers: { 'x-request-id': 'after-probes' } });
    await eventually(
      () => lines.find((l) => l.msg === 'request completed' && l['request_id'] === 'after-probes'),
      'the request after the probes',
    );

    const probeLines = lines.filter((l) => ['/health', '/readyz', '/metrics'].includes(String(l['route'])));
    expect(probeLines).toEqual([]);
  });
});
