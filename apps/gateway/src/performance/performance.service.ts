import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import pg from 'pg';
import type { TwoLevelCache } from '@conduit/caching';
import { CoreBus } from '@conduit/messaging';
import { PerformanceRegistry } from '@conduit/observability';
import { PERFORMANCE_SUBJECT } from '@conduit/contracts';
import { SERVICE_CONFIG, type PerformanceSnapshot } from '@conduit/runtime';
import { AUTH_CACHE, RESPONSE_CACHE } from '../cache/gateway-cache.module.js';
import type { GatewayConfig } from '../config/gateway.config.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';

/** The services `/performance/health` expects to hear from. */
export const SERVICES = ['gateway', 'device-control', 'telemetry', 'analytics', 'llm-experiments'] as const;

export interface PerformanceHealth {
  /** `ok` when every service answered, else `degraded`. */
  readonly status: 'ok' | 'degraded';
  readonly deadline_ms: number;
  readonly gathered_in_ms: number;
  /** Each service's replicas that answered within the deadline; none → `no_response`. */
  readonly services: Record<
    string,
    { status: 'ok'; replicas: PerformanceSnapshot[] } | { status: 'no_response' }
  >;
  /** PgBouncer's `SHOW POOLS`, one row per database/user pool. */
  readonly pgbouncer: { pools: Record<string, unknown>[] } | { error: string };
}

/**
 * Gathers `/performance/health`: the snapshot of every replica of every service, scattered over
 * NATS and collected until the deadline (a service that does not answer is reported, not
 * awaited), plus PgBouncer's pools. Registers the gateway's own sections (rate limiter, caches).
 */
@Injectable()
export class PerformanceService implements OnModuleInit {
  private readonly deadlineMs: number;

  constructor(
    private readonly registry: PerformanceRegistry,
    private readonly limiter: RateLimitService,
    @Inject(RESPONSE_CACHE) private readonly responses: TwoLevelCache,
    @Inject(AUTH_CACHE) private readonly auth: TwoLevelCache,
    private readonly bus: CoreBus,
    @Inject(SERVICE_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.deadlineMs = config.service.perfDeadlineMs;
  }

  onModuleInit(): void {
    this.registry.register('rate_limiter', () => this.limiter.status());
    this.registry.register('caches', () => [this.responses.stats(), this.auth.stats()]);
  }

  async health(): Promise<PerformanceHealth> {
    const started = performance.now();
    const [replicas, pgbouncer] = await Promise.all([this.gather(), this.pgbouncerPools()]);
    const services: PerformanceHealth['services'] = {};
    for (const name of SERVICES) services[name] = { status: 'no_response' };
    for (const snapshot of replicas) {
      const entry = services[snapshot.service];
      if (entry?.status === 'ok') entry.replicas.push(snapshot);
      else services[snapshot.service] = { status: 'ok', replicas: [snapshot] };
    }
    return {
      status: Object.values(services).every((s) => s.status === 'ok') ? 'ok' : 'degraded',
      deadline_ms: this.deadlineMs,
      gathered_in_ms: Math.round(performance.now() - started),
      services,
      pgbouncer,
    };
  }

  private gather(): Promise<PerformanceSnapshot[]> {
    return this.bus.gather<PerformanceSnapshot>(PERFORMANCE_SUBJECT, this.deadlineMs);
  }

  /** `SHOW POOLS` on PgBouncer's admin console (the `pgbouncer` database of DATABASE_URL's server). */
  private async pgbouncerPools(): Promise<PerformanceHealth['pgbouncer']> {
    const url = new URL(this.config.database.url);
    url.pathname = '/pgbouncer';
    const client = new pg.Client({
      connectionString: url.toString(),
      connectionTimeoutMillis: this.deadlineMs,
      query_timeout: this.deadlineMs,
      application_name: 'gateway-performance',
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const result = await client.query('SHOW POOLS');
      return { pools: result.rows.filter((r: { database?: string }) => r.database !== 'pgbouncer') };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    } finally {
      void client.end().catch(() => undefined);
    }
  }
}
