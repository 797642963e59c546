import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { BaseConfig } from '@conduit/config';
import { PERFORMANCE_SUBJECT } from '@conduit/contracts';
import { poolStats } from '@conduit/database';
import { CoreBus, JetStreamConsumers, MessagingHealth } from '@conduit/messaging';
import { PerformanceRegistry } from '@conduit/observability';
import { DataSource } from 'typeorm';
import { SERVICE_CONFIG } from './tokens.js';

/** One replica's answer. */
export interface PerformanceSnapshot {
  readonly service: string;
  readonly instance: string;
  readonly pid: number;
  readonly uptime_s: number;
  readonly memory: { readonly rss_mb: number; readonly heap_used_mb: number };
  readonly sections: Record<string, unknown>;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * Answers `conduit.perf.health` (no queue group: every replica answers) with the process's
 * snapshot — NATS connection, database pool and whatever other modules registered in the
 * {@link PerformanceRegistry} (caches, breakers, rate limiter). The gateway scatters the
 * request and gathers the answers for `/performance/health`.
 */
@Injectable()
export class PerformanceResponder implements OnModuleInit, OnModuleDestroy {
  readonly instance = randomUUID();
  private unsubscribe?: () => void;

  constructor(
    private readonly registry: PerformanceRegistry,
    private readonly messaging: MessagingHealth,
    private readonly bus: CoreBus,
    private readonly consumers: JetStreamConsumers,
    @Inject(DataSource) private readonly dataSource: DataSource | null,
    @Inject(SERVICE_CONFIG) private readonly config: BaseConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register('nats', () => {
      return { ...this.messaging.status(), ...this.bus.stats() };
    });
    // JetStream consumers this process runs: messages waiting (`pending`) and in hand (`ack_pending`).
    this.registry.register('consumers', () =>
      Promise.all(
        this.consumers.list().map(async (c) => {
          const { pending, ackPending } = await c.lag();
          return { stream: c.stream, durable: c.durable, pending, ack_pending: ackPending };
        }),
      ),
    );
    const dataSource = this.dataSource;
    if (dataSource) {
      this.registry.register('database_pool', () => ({
        ...poolStats(dataSource),
        max: this.config.database.poolMax,
      }));
    }
    this.unsubscribe = this.bus.respond(PERFORMANCE_SUBJECT, () => this.snapshot());
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  async snapshot(): Promise<PerformanceSnapshot> {
    const memory = process.memoryUsage();
    return {
      service: this.config.serviceName,
      instance: this.instance,
      pid: process.pid,
      uptime_s: Math.round(process.uptime()),
      memory: { rss_mb: mb(memory.rss), heap_used_mb: mb(memory.heapUsed) },
      sections: await this.registry.snapshot(),
    };
  }
}
