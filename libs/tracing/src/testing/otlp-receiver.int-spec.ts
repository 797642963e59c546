import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { startOtlpReceiver } from './otlp-receiver.js';

describe(startOtlpReceiver.name, () => {
  it('decodes what the real OTLP/HTTP exporter posts: service, kinds, parents, links, attributes, errors', async () => {
    await using sut = await startOtlpReceiver();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'receiver-test' }),
      spanProcessors: [
        new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${sut.url}/v1/traces` }) }),
      ],
    });
    const manager = new AsyncLocalStorageContextManager().enable();
    const tracer = provider.getTracer('test');
    try {
      const earlier = tracer.startSpan('earlier', { kind: SpanKind.PRODUCER });
      earlier.end();
      const parent = tracer.startSpan('parent', {
        kind: SpanKind.SERVER,
        attributes: { 'http.route': '/x/:id', n: 7, ratio: 0.5, ok: true, tags: ['a', 'b'] },
        links: [{ context: earlier.spanContext(), attributes: { reason: 'batch' } }],
      });
      const child = tracer.startSpan(
        'child',
        { kind: SpanKind.CLIENT },
        trace.setSpan(context.active(), parent),
      );
      child.recordException(new Error('boom'));
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
      child.end();
      parent.end();
      await provider.forceFlush();

      const spans = await sut.waitForSpans((all) => (all.length >= 3 ? all : undefined), 5_000);
      const e = spans.find((s) => s.name === 'earlier');
      const p = spans.find((s) => s.name === 'parent');
      const c = spans.find((s) => s.name === 'child');
      expect(p).toMatchObject({
        kind: 'server',
        serviceName: 'receiver-test',
        attributes: { 'http.route': '/x/:id', n: 7, ratio: 0.5, ok: true, tags: ['a', 'b'] },
        links: [{ traceId: e?.traceId, spanId: e?.spanId, attributes: { reason: 'batch' } }],
      });
      expect(p?.parentSpanId).toBeUndefined();
      expect(e?.kind).toBe('producer');
      expect(c?.kind).toBe('client');
      expect(c?.traceId).toBe(p?.traceId);
      expect(c?.parentSpanId).toBe(p?.spanId);
      expect(c?.status).toEqual({ code: 2, message: 'boom' });
      expect(c?.events.find((ev) => ev.name === 'exception')?.attributes['exception.message']).toBe('boom');
    } finally {
      await provider.shutdown();
      manager.disable();
    }
  });

  it('rejects protobuf exports with 415 and keeps nothing', async () => {
    await using sut = await startOtlpReceiver();

    const res = await fetch(`${sut.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([10, 0]),
    });

    expect(res.status).toBe(415);
    expect(sut.spans()).toEqual([]);
  });

  it('times out listing the spans it did receive when the wanted ones never come', async () => {
    await using sut = await startOtlpReceiver();
    await expect(sut.waitForSpans(() => undefined, 100)).rejects.toThrow(/no matching spans within 100 ms/);
  });
});
