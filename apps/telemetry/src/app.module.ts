import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceRuntimeModule } from '@conduit/runtime';
import type { TelemetryConfig } from './config/telemetry.config.js';
import { TELEMETRY_SCHEMA, telemetryMigrations } from './migrations/index.js';

/** The service's runtime (NATS, its Postgres schema, health, metrics); features arrive with their issues. */
@Module({})
export class AppModule {
  static register(config: TelemetryConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceRuntimeModule.forRoot({
          config,
          database: { schema: TELEMETRY_SCHEMA, entities: [], migrations: telemetryMigrations },
        }),
      ],
    };
  }
}
