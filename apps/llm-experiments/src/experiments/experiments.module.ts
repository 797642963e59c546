import { Inject, Injectable, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { BreakerRegistry } from '@conduit/breakers';
import { createCacheRedis, TwoLevelCache, type TwoLevelCacheOptions } from '@conduit/caching';
import { DefinitionsService, LLM_CACHE } from './definitions.service.js';
import { CoreBus, NATS_CONNECTION } from '@conduit/messaging';
import { PerformanceRegistry } from '@conduit/observability';
import { createServiceBreakers, outboxProviders, SERVICE_CONFIG } from '@conduit/runtime';
import { EXPERIMENTS_SCHEMA } from '../migrations/index.js';
import { register } from 'prom-client';
import type { LlmExperimentsConfig } from '../config/llm-experiments.config.js';
import { LocalAdapter } from '../providers/local.adapter.js';
import { OpenAiAdapter } from '../providers/openai.adapter.js';
import { ProviderCallsService } from '../providers/provider-calls.service.js';
import { ProvidersRepository } from '../providers/providers.repository.js';
import { ProvidersService } from '../providers/providers.service.js';
import { ExperimentsHandler } from './experiments.handler.js';
import { ExperimentsRepository } from './experiments.repository.js';
import { ExperimentsService, PROVIDER_CALLS } from './experiments.service.js';
import { RunRecorder } from './run-recorder.js';
import { RunsConsumer } from './runs.consumer.js';

type Redis = ReturnType<typeof createCacheRedis>;
type Nats = TwoLevelCacheOptions['nats'];

const LLM_REDIS = Symbol('LLM_REDIS');
const LLM_BREAKERS = Symbol('LLM_BREAKERS');

/** Lists breakers and the response cache in `/performance/health`; closes them and the providers' connections at shutdown. */
@Injectable()
class LlmInfrastructure implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(LLM_BREAKERS) private readonly breakers: BreakerRegistry,
    @Inject(LLM_CACHE) private readonly cache: TwoLevelCache,
    @Inject(LLM_REDIS) private readonly redis: Redis,
    @Inject(PROVIDER_CALLS) private readonly calls: ProviderCallsService,
    private readonly performance: PerformanceRegistry,
  ) {}

  onModuleInit(): void {
    this.performance.register('breakers', () => this.breakers.list());
    this.performance.register('caches', () => [this.cache.stats()]);
  }

  async onApplicationShutdown(): Promise<void> {
    this.breakers.shutdown();
    this.calls.close();
    await this.cache.close();
    this.redis.disconnect();
  }
}

// Providers, experiments, runs and results share the service's tables and the provider calls: one module.
@Module({
  providers: [
    {
      provide: LLM_REDIS,
      useFactory: (config: LlmExperimentsConfig) =>
        createCacheRedis(config.redis.url, { name: 'llm-experiments' }),
      inject: [SERVICE_CONFIG],
    },
    {
      provide: LLM_CACHE,
      useFactory: async (redis: Redis, nc: Nats, config: LlmExperimentsConfig) => {
        const cache = new TwoLevelCache({
          namespace: 'llm',
          redis,
          nats: nc,
          l1: { maxEntries: 100_000, maxBytes: config.service.cache.l1MaxBytes },
          defaultTtlMs: Math.max(1, config.service.cache.ttlMs),
          registry: register,
        });
        await cache.start();
        return cache;
      },
      inject: [LLM_REDIS, NATS_CONNECTION, SERVICE_CONFIG],
    },
    {
      provide: LLM_BREAKERS,
      // timeoutMs is each provider's own timeout_ms (given when its breaker is created).
      useFactory: (config: LlmExperimentsConfig, bus: CoreBus) =>
        createServiceBreakers(config, bus, { timeoutMs: 30_000, ...config.service.breaker }, 'LlmBreakers'),
      inject: [SERVICE_CONFIG, CoreBus],
    },
    {
      provide: PROVIDER_CALLS,
      useFactory: (cache: TwoLevelCache, breakers: BreakerRegistry, config: LlmExperimentsConfig) =>
        new ProviderCallsService({
          adapters: [
            new OpenAiAdapter({ maxResponseBytes: config.service.maxResponseBytes }),
            new LocalAdapter(),
          ],
          breakers,
          cache,
          cacheTtlMs: config.service.cache.ttlMs,
          retry: config.service.retry,
        }),
      inject: [LLM_CACHE, LLM_BREAKERS, SERVICE_CONFIG],
    },
    LlmInfrastructure,
    ProvidersRepository,
    ProvidersService,
    ...outboxProviders(EXPERIMENTS_SCHEMA),
    DefinitionsService,
    ExperimentsRepository,
    RunsConsumer,
    RunRecorder,
    ExperimentsService,
    ExperimentsHandler,
  ],
})
export class ExperimentsModule {}
