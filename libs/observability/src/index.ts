export { ObservabilityModule } from './observability.module.js';
export { ReadinessRegistry, withTimeout } from './readiness.registry.js';
export type { ReadinessCheck } from './readiness.registry.js';
export { LoggingModule, traceFields } from './logging.module.js';
export { createHttpService } from './create-http-service.js';
export type { HttpServiceOptions } from './create-http-service.js';
