import { Module } from '@nestjs/common';
import { TelemetryQueriesHandler } from './telemetry-queries.handler.js';
import { TelemetryQueriesRepository } from './telemetry-queries.repository.js';
import { TelemetryQueriesService } from './telemetry-queries.service.js';

@Module({ providers: [TelemetryQueriesRepository, TelemetryQueriesService, TelemetryQueriesHandler] })
export class QueriesModule {}
