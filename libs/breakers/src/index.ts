export { Breaker } from './breaker.js';
export type {
  BreakerContext,
  BreakerCounts,
  BreakerEvents,
  BreakerLogger,
  BreakerSnapshot,
  BreakerState,
  BreakerStateChange,
  BreakerStateListener,
  FireOptions,
} from './breaker.js';
export { BreakerRegistry } from './breaker-registry.js';
export type { BreakerRegistryOptions } from './breaker-registry.js';
export { BreakerOpenError, BreakerTimeoutError } from './breaker.error.js';
export {
  BREAKER_OPTION_DEFAULTS,
  breakerOptionsFromEnv,
  breakerOptionsSchema,
  breakerOverridesSchema,
} from './breaker.config.js';
export type { BreakerOptions, ResolvedBreakerOptions } from './breaker.config.js';
export type { BreakerOutcome } from './breaker-metrics.js';
