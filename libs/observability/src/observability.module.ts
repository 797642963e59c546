import { Global, Module, type DynamicModule } from '@nestjs/common';
import { collectDefaultMetrics, register } from 'prom-client';
import { HealthController } from './health.controller.js';
import { HttpMetricsService } from './http-metrics.service.js';
import { PerformanceRegistry } from './performance.registry.js';
import { ReadinessRegistry } from './readiness.registry.js';

/** Options of {@link ObservabilityModule.forRoot}. */
export interface ObservabilityOptions {
  /** Value of the `service` label on every metric of the process. */
  readonly serviceName: string;
}

let defaultsCollected = false;

/**
 * `/health`, `/readyz`, `/metrics`, the {@link ReadinessRegistry} (global: any module may
 * inject it and register a check), the {@link PerformanceRegistry} (likewise, for sections of
 * the performance snapshot) and the HTTP request histogram (see `HttpMetricsService`).
 * Metrics live in prom-client's default registry, so metrics defined by other libs are served
 * too. Process metrics (`collectDefaultMetrics`) and the `service` default label are set up once
 * per process — by the first call; later calls (tests building several apps) keep them.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    if (!defaultsCollected) {
      register.setDefaultLabels({ service: options.serviceName });
      collectDefaultMetrics();
      defaultsCollected = true;
    }
    return {
      module: ObservabilityModule,
      controllers: [HealthController],
      providers: [ReadinessRegistry, HttpMetricsService, PerformanceRegistry],
      exports: [ReadinessRegistry, HttpMetricsService, PerformanceRegistry],
    };
  }
}
