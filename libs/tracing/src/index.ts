export { shutdownTracing, startTracing, startTracingFromEnv } from './start-tracing.js';
export type { TracingOptions } from './start-tracing.js';
export { currentTraceId, extractContext, injectContext, withSpan } from './span-helpers.js';
