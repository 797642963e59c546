import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ServiceRuntimeModule } from '@conduit/runtime';
import { HttpErrorFilter } from './common/http-error.filter.js';
import type { GatewayConfig } from './config/gateway.config.js';
import { AnalyticsModule } from './analytics/analytics.module.js';
import { DevicesModule } from './devices/devices.module.js';
import { EdgeModule } from './edge.module.js';
import { ExperimentsModule } from './experiments/experiments.module.js';
import { GATEWAY_SCHEMA, gatewayMigrations } from './migrations/index.js';
import { INGEST_LIMITS } from './telemetry/telemetry-ingest.service.js';
import { TelemetryModule } from './telemetry/telemetry.module.js';

@Module({})
export class AppModule {
  static register(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ServiceRuntimeModule.forRoot({
          config,
          database: { schema: GATEWAY_SCHEMA, entities: [], migrations: gatewayMigrations },
        }),
        EdgeModule,
        DevicesModule,
        TelemetryModule,
        AnalyticsModule,
        ExperimentsModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: INGEST_LIMITS, useValue: config.service.ingest },
      ],
      exports: [INGEST_LIMITS],
    };
  }
}
