import { Module } from '@nestjs/common';
import { SERVICE_CONFIG } from '@conduit/runtime';
import type { TelemetryConfig } from '../config/telemetry.config.js';
import { PartitionsService } from '../partitions/partitions.service.js';
import { PointsConsumer } from './points.consumer.js';
import { POINT_DEDUPE, PointsRepository } from './points.repository.js';

@Module({
  providers: [
    {
      provide: POINT_DEDUPE,
      useFactory: (config: TelemetryConfig) => config.service.writer.dedupe,
      inject: [SERVICE_CONFIG],
    },
    PointsRepository,
    PointsConsumer,
    PartitionsService,
  ],
})
export class IngestModule {}
