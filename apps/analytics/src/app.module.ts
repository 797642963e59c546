import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceRuntimeModule } from '@conduit/runtime';
import type { AnalyticsConfig } from './config/analytics.config.js';
import { ANALYTICS_SCHEMA, analyticsMigrations } from './migrations/index.js';

/** The service's runtime (NATS, its Postgres schema, health, metrics); features arrive with their issues. */
@Module({})
export class AppModule {
  static register(config: AnalyticsConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceRuntimeModule.forRoot({
          config,
          database: { schema: ANALYTICS_SCHEMA, entities: [], migrations: analyticsMigrations },
        }),
      ],
    };
  }
}
