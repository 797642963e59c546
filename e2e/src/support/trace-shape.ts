import type { ReceivedSpan } from '@conduit/tracing/testing';

/** A pg query span (database semantic conventions, old or new attribute name). */
export const isPgQuery = (s: ReceivedSpan): boolean =>
  s.kind === 'client' && (s.attributes['db.system.name'] ?? s.attributes['db.system']) === 'postgresql';

/** True when `ancestor` is on the parent chain of `span` within one trace. */
export function descendsFrom(
  span: ReceivedSpan,
  ancestor: ReceivedSpan,
  all: readonly ReceivedSpan[],
): boolean {
  const byId = new Map(all.map((s) => [s.spanId, s]));
  let current: ReceivedSpan | undefined = span;
  for (let hops = 0; current && hops < 50; hops++) {
    if (current.parentSpanId === ancestor.spanId) return true;
    current = current.parentSpanId ? byId.get(current.parentSpanId) : undefined;
  }
  return false;
}

/** `service:kind:name` of each span, for failure messages. */
export const describeSpans = (spans: readonly ReceivedSpan[]): string =>
  spans.map((s) => `${s.serviceName}:${s.kind}:${s.name}`).join(', ');
