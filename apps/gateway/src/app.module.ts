import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ServiceRuntimeModule } from '@conduit/runtime';
import { HttpErrorFilter } from './common/http-error.filter.js';
import { DEFAULT_ORG_ID, TenancyGuard } from './common/tenancy.guard.js';
import type { GatewayConfig } from './config/gateway.config.js';
import { DevicesModule } from './devices/devices.module.js';
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
      ],
      providers: [
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: DEFAULT_ORG_ID, useValue: config.service.devOrgId },
        TenancyGuard,
      ],
      exports: [DEFAULT_ORG_ID, TenancyGuard],
    };
  }
}
