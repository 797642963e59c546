import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceRuntimeModule } from '@conduit/runtime';
import type { LlmExperimentsConfig } from './config/llm-experiments.config.js';
import { ExperimentsModule } from './experiments/experiments.module.js';
import { EXPERIMENTS_SCHEMA, llmExperimentsMigrations } from './migrations/index.js';

/** The service's runtime (NATS, its Postgres schema, health, metrics) and the experiments feature. */
@Module({})
export class AppModule {
  static register(config: LlmExperimentsConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceRuntimeModule.forRoot({
          config,
          database: { schema: EXPERIMENTS_SCHEMA, entities: [], migrations: llmExperimentsMigrations },
        }),
        ExperimentsModule,
      ],
    };
  }
}
