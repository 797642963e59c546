export {
  shutdownTracing,
  startTracing,
  startTracingFromEnv,
  tracingOptionsFromEnv,
} from './start-tracing.js';
export type { TracingHandle, TracingOptions } from './start-tracing.js';
export { currentTraceId, extractContext, injectContext, withSpan } from './span-helpers.js';
