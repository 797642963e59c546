import { Module } from '@nestjs/common';
import { TelemetryIngestService } from './telemetry-ingest.service.js';
import { TelemetryController } from './telemetry.controller.js';

@Module({ controllers: [TelemetryController], providers: [TelemetryIngestService] })
export class TelemetryModule {}
