// No relative imports in this file: the ESM child-process test loads it with Node's type stripping.
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanOptions,
} from '@opentelemetry/api';

// A proxy: it delegates to whatever provider the SDK registers, even one registered later.
const tracer = trace.getTracer('@conduit/tracing');

/**
 * Runs `fn` inside a new span made active for its duration (child of the active span, if any).
 * A thrown error (or rejection) is recorded on the span as an `exception` event with status
 * ERROR and the error's message, then rethrown; on success the status stays UNSET, as the
 * OpenTelemetry spec recommends. The span always ends when `fn` settles. Without a started SDK
 * the span is a no-op and `fn` still runs.
 */
export async function withSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * The 32-hex-digit trace id of the active span, or `undefined` outside any span. Sampled or not:
 * an unsampled span still has an id worth putting on a log line.
 */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/**
 * Writes the trace context of `ctx` (default: the active one) into `carrier` as W3C
 * `traceparent` (and `tracestate` when set), e.g. NATS message headers; returns `carrier`.
 * Writes nothing when there is no span or no propagator is registered (tracing not started).
 */
export function injectContext(
  carrier: Record<string, string>,
  ctx: Context = context.active(),
): Record<string, string> {
  propagation.inject(ctx, carrier);
  return carrier;
}

/**
 * The context carried by `carrier` (as written by {@link injectContext}), on top of the root
 * context — not the active one, so a handler's span continues the sender's trace. Without a
 * valid `traceparent` it is the root context: the next span starts a new trace.
 */
export function extractContext(carrier: Readonly<Record<string, string>>): Context {
  return propagation.extract(ROOT_CONTEXT, carrier);
}
