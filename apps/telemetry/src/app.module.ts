import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceRuntimeModule } from '@conduit/runtime';
import type { TelemetryConfig } from './config/telemetry.config.js';
import { IngestModule } from './ingest/ingest.module.js';
import { WRITER_OPTIONS, type WriterOptions } from './ingest/points.consumer.js';
import { TELEMETRY_SCHEMA, telemetryMigrations } from './migrations/index.js';
import { PARTITION_OPTIONS } from './partitions/partitions.service.js';
import { QueriesModule } from './queries/queries.module.js';
import { QUERY_LIMITS } from './queries/telemetry-queries.service.js';

@Module({})
export class AppModule {
  static register(config: TelemetryConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [
        ServiceRuntimeModule.forRoot({
          config,
          database: { schema: TELEMETRY_SCHEMA, entities: [], migrations: telemetryMigrations },
        }),
        IngestModule,
        QueriesModule,
      ],
      providers: [
        // `satisfies`: useValue is untyped, and TELEMETRY_WRITER_CONCURRENCY once never reached the writer.
        { provide: WRITER_OPTIONS, useValue: config.service.writer satisfies WriterOptions },
        { provide: PARTITION_OPTIONS, useValue: config.service.partitions },
        { provide: QUERY_LIMITS, useValue: config.service.queries },
      ],
      exports: [WRITER_OPTIONS, PARTITION_OPTIONS, QUERY_LIMITS],
    };
  }
}
