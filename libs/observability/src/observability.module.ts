import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { collectDefaultMetrics, register } from 'prom-client';
import { HealthController } from './health.controller.js';
import { HttpMetricsInstaller } from './http-metrics.installer.js';
import { ReadinessRegistry } from './readiness.registry.js';

let defaultsCollected = false;

/**
 * `/health`, `/readyz`, `/metrics` and the HTTP metrics of a service. Process metrics are
 * collected once per process, every series labelled `service`.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: { serviceName: string }): DynamicModule {
    if (!defaultsCollected) {
      register.setDefaultLabels({ service: options.serviceName });
      collectDefaultMetrics();
      defaultsCollected = true;
    }
    return {
      module: ObservabilityModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [ReadinessRegistry, HttpMetricsInstaller],
      exports: [ReadinessRegistry],
    };
  }
}
