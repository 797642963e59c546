import { SpanKind, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { startOtlpReceiver } from './otlp-receiver.js';

describe(startOtlpReceiver.name, () => {
  it('decodes what the OTLP/HTTP exporter posts: services, kinds, parents, attributes, errors', async () => {
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
      const parent = tracer.startSpan('parent', {
        kind: SpanKind.SERVER,
        attributes: { 'http.route': '/x/:id', n: 7 },
      });
      const child = tracer.startSpan(
        'child',
        { kind: SpanKind.CLIENT },
        trace.setSpan(context.active(), parent),
      );
      child.recordException(new Error('boom'));
      child.setStatus({ code: 2 });
      child.end();
      parent.end();
      await provider.forceFlush();

      const spans = await sut.waitForSpans((all) => (all.length >= 2 ? all : undefined), 5_000);
      const p = spans.find((s) => s.name === 'parent');
      const c = spans.find((s) => s.name === 'child');
      expect(p).toMatchObject({
        kind: 'server',
        serviceName: 'receiver-test',
        attributes: { 'http.route': '/x/:id', n: 7 },
      });
      expect(c?.kind).toBe('client');
      expect(c?.traceId).toBe(p?.traceId);
      expect(c?.parentSpanId).toBe(p?.spanId);
      expect(c?.status.code).toBe(2);
      expect(c?.events.map((e) => e.name)).toContain('exception');
    } finally {
      await provider.shutdown();
      manager.disable();
    }
  });

  it('times out with the spans it did receive when the wanted ones never come', async () => {
    await using sut = await startOtlpReceiver();
    await expect(sut.waitForSpans(() => undefined, 100)).rejects.toThrow(/no matching spans within 100 ms/);
  });
});
