export { ObservabilityModule } from './observability.module.js';
export type { ObservabilityOptions } from './observability.module.js';
export { DEFAULT_READINESS_TIMEOUT_MS, ReadinessRegistry, withTimeout } from './readiness.registry.js';
export type { ReadinessCheck, ReadinessCheckResult, ReadinessReport } from './readiness.registry.js';
export { UNMATCHED_ROUTE } from './http-metrics.service.js';
export { LoggingModule, traceFields } from './logging.module.js';
export type { LoggingOptions } from './logging.module.js';
export { createHttpService } from './create-http-service.js';
export type { HttpServiceOptions } from './create-http-service.js';
