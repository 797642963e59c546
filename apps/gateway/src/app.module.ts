import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ServiceRuntimeModule } from '@conduit/runtime';
import { HttpErrorFilter } from './common/http-error.filter.js';
import { DEFAULT_ORG_ID, TenancyGuard } from './common/tenancy.guard.js';
import type { GatewayConfig } from './config/gateway.config.js';
import { DevicesModule } from './devices/devices.module.js';
import { INGEST_LIMITS } from './telemetry/telemetry-ingest.service.js';
import { TelemetryModule } from './telemetry/telemetry.module.js';
import { GATEWAY_SCHEMA, gatewayMigrations } from './migrations/index.js';

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
        DevicesModule,
        TelemetryModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: DEFAULT_ORG_ID, useValue: config.service.devOrgId },
        { provide: INGEST_LIMITS, useValue: config.service.ingest },
        TenancyGuard,
      ],
      exports: [DEFAULT_ORG_ID, TenancyGuard, INGEST_LIMITS],
    };
  }
}
