import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceRuntimeModule } from '@conduit/runtime';
import { AlertsModule } from './alerts/alerts.module.js';
import type { AnalyticsConfig } from './config/analytics.config.js';
import { ANALYTICS_SCHEMA, analyticsMigrations } from './migrations/index.js';

/** Streaming anomaly detection, alert rules and alerts, fleet summaries and capacity estimates. */
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
        AlertsModule,
      ],
    };
  }
}
