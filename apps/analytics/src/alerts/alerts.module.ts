import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { PerformanceRegistry } from '@conduit/observability';
import { outboxProviders, SERVICE_CONFIG } from '@conduit/runtime';
import { ANALYTICS_SCHEMA } from '../migrations/index.js';
import { AnomalyConsumer } from '../anomaly/anomaly.consumer.js';
import { AnomalyDetectorService } from '../anomaly/anomaly-detector.service.js';
import { SeriesRepository } from '../anomaly/series.repository.js';
import type { AnalyticsConfig } from '../config/analytics.config.js';
import { DeviceDirectoryService } from '../devices/device-directory.service.js';
import { DevicesConsumer } from '../devices/devices.consumer.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { AnalyticsQueriesHandler } from '../queries/analytics-queries.handler.js';
import { AnalyticsQueriesService } from '../queries/analytics-queries.service.js';
import { NoDataService } from '../rules/no-data.service.js';
import { RuleEngineService } from '../rules/rule-engine.service.js';
import { RulesRepository } from '../rules/rules.repository.js';
import { RulesService } from '../rules/rules.service.js';
import { AlertsHandler } from './alerts.handler.js';
import { AlertsRepository } from './alerts.repository.js';

/** The `analytics` section of `/performance/health`: series held in memory, rules evaluated. */
@Injectable()
class AnalyticsReporting implements OnModuleInit {
  constructor(
    private readonly performance: PerformanceRegistry,
    private readonly consumer: AnomalyConsumer,
    private readonly rules: RulesService,
  ) {}

  onModuleInit(): void {
    this.performance.register('analytics', () => ({
      series_tracked: this.consumer.trackedSeries,
      rules_enabled: this.rules.all().length,
    }));
  }
}

// The streaming path, rules, alerts and their outbox share the series states and one transaction
// per batch: one module.
@Module({
  providers: [
    {
      provide: AnomalyDetectorService,
      useFactory: (config: AnalyticsConfig) => new AnomalyDetectorService(config.service.detector),
      inject: [SERVICE_CONFIG],
    },
    RuleEngineService,
    ...outboxProviders(ANALYTICS_SCHEMA),
    AlertsRepository,
    AlertsHandler,
    RulesRepository,
    RulesService,
    NoDataService,
    DevicesRepository,
    DevicesConsumer,
    DeviceDirectoryService,
    SeriesRepository,
    AnomalyConsumer,
    AnalyticsQueriesService,
    AnalyticsQueriesHandler,
    AnalyticsReporting,
  ],
})
export class AlertsModule {}
