import { Logger } from '@nestjs/common';
import { BreakerRegistry, type BreakerOptions } from '@conduit/breakers';
import type { BaseConfig } from '@conduit/config';
import { BREAKER_STATE_SUBJECT } from '@conduit/contracts';
import type { CoreBus } from '@conduit/messaging';
import { register } from 'prom-client';

/**
 * A service's circuit breakers as the platform runs them: `conduit_breaker_*` metrics on the
 * process registry, state changes logged under `loggerName` and published on core NATS
 * (`conduit.breaker.<service>.state_changed`, see contracts) for operators' tooling.
 */
export function createServiceBreakers(
  config: BaseConfig,
  bus: CoreBus,
  defaults: BreakerOptions,
  loggerName: string,
): BreakerRegistry {
  const logger = new Logger(loggerName);
  return new BreakerRegistry({
    defaults,
    registry: register,
    logger: { log: (m: string) => logger.log(m), warn: (m: string) => logger.warn(m) },
    onStateChange: (change) =>
      bus.publish(BREAKER_STATE_SUBJECT(config.serviceName), {
        service: config.serviceName,
        breaker: change.name,
        from: change.from,
        to: change.to,
        at: change.at.toISOString(),
      }),
  });
}
