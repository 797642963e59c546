import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { currentTraceId, extractContext, injectContext, withSpan } from './span-helpers.js';

// What the NodeSDK installs, minus instrumentation and export: spans land in memory.
const exporter = new InMemorySpanExporter();

beforeAll(() => {
  trace.setGlobalTracerProvider(
    new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});

afterAll(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

beforeEach(() => exporter.reset());

describe(withSpan.name, () => {
  it('returns what fn returns and ends the span, leaving its status unset', async () => {
    const sut = await withSpan('ok-work', { attributes: { n: 1 } }, async () => 42);

    expect(sut).toBe(42);
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('ok-work');
    expect(span?.attributes['n']).toBe(1);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records a thrown error, sets status ERROR with its message, ends the span and rethrows', async () => {
    const error = new Error('database said no');

    await expect(
      withSpan('failing-work', {}, () => {
        throw error;
      }),
    ).rejects.toBe(error);

    const [span] = exporter.getFinishedSpans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'database said no' });
    expect(span?.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([
      ['exception', 'database said no'],
    ]);
  });

  it('makes the span active inside fn, so nested spans are its children', async () => {
    let innerTraceId: string | undefined;
    await withSpan('outer', {}, () =>
      withSpan('inner', {}, () => {
        innerTraceId = currentTraceId();
      }),
    );

    const spans = exporter.getFinishedSpans();
    const outer = spans.find((s) => s.name === 'outer');
    const inner = spans.find((s) => s.name === 'inner');
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
    expect(innerTraceId).toBe(outer?.spanContext().traceId);
  });
});

describe(currentTraceId.name, () => {
  it('is undefined outside any span', () => {
    expect(currentTraceId()).toBeUndefined();
  });
});

describe(injectContext.name, () => {
  it('round-trips through extractContext: a span started there continues the sender trace', async () => {
    const carrier = await withSpan('sender', {}, () => injectContext({ 'x-other': 'kept' }));
    const sender = exporter.getFinishedSpans().find((s) => s.name === 'sender');

    const extracted = extractContext(carrier);
    await context.with(extracted, () => withSpan('receiver', {}, () => undefined));

    const receiver = exporter.getFinishedSpans().find((s) => s.name === 'receiver');
    expect(carrier['traceparent']).toBe(
      `00-${sender?.spanContext().traceId}-${sender?.spanContext().spanId}-01`,
    );
    expect(carrier['x-other']).toBe('kept');
    expect(trace.getSpanContext(extracted)?.isRemote).toBe(true);
    expect(receiver?.spanContext().traceId).toBe(sender?.spanContext().traceId);
    expect(receiver?.parentSpanContext?.spanId).toBe(sender?.spanContext().spanId);
  });

  it('writes nothing outside a span, and extracting a carrier without traceparent gives no parent', () => {
    const sut = injectContext({});

    expect(sut).toEqual({});
    expect(trace.getSpanContext(extractContext({ traceparent: 'garbage' }))).toBeUndefined();
  });
});
