import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { AlertRule, CreateAlertRuleBody, UpdateAlertRuleBody } from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { RpcError } from '@conduit/messaging';
import { SERVICE_CONFIG } from '@conduit/runtime';
import type { AnalyticsConfig } from '../config/analytics.config.js';
import { RulesRepository } from './rules.repository.js';

/**
 * Rule CRUD, and the set of enabled rules the engine evaluates, held in memory per org. Every
 * replica reloads it every `ANALYTICS_RULES_REFRESH_MS`; a change made through this replica
 * reloads it at once. So a rule change reaches every replica within one refresh period.
 */
@Injectable()
export class RulesService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RulesService.name);
  private byOrg = new Map<string, AlertRule[]>();
  private ids = new Set<string>();
  private timer?: NodeJS.Timeout;
  private loaded = false;
  private readonly refreshMs: number;

  constructor(
    private readonly rules: RulesRepository,
    @Inject(SERVICE_CONFIG) config: AnalyticsConfig,
  ) {
    this.refreshMs = config.service.rulesRefreshMs;
  }

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) => this.logger.warn(`rule refresh failed: ${String(error)}`));
    }, this.refreshMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Enabled rules of an org (empty until the first load). */
  forOrg(orgId: string): readonly AlertRule[] {
    return this.byOrg.get(orgId) ?? [];
  }

  /** Whether `id` is a currently enabled rule (false before the first load succeeded: keep state). */
  isLive(id: string): boolean {
    return !this.loaded || this.ids.has(id);
  }

  /** Enabled rules of every org (the no-data sweep). */
  all(): readonly AlertRule[] {
    return [...this.byOrg.values()].flat();
  }

  async refresh(): Promise<void> {
    const rules = await this.rules.listEnabled();
    const byOrg = new Map<string, AlertRule[]>();
    for (const rule of rules) {
      const list = byOrg.get(rule.org_id);
      if (list) list.push(rule);
      else byOrg.set(rule.org_id, [rule]);
    }
    this.byOrg = byOrg;
    this.ids = new Set(rules.map((r) => r.id));
    this.loaded = true;
  }

  async create(scope: TenantScope, body: CreateAlertRuleBody): Promise<AlertRule> {
    const rule = await this.rules.create(scope, body);
    await this.refreshQuietly();
    return rule;
  }

  list(scope: TenantScope): Promise<AlertRule[]> {
    return this.rules.list(scope);
  }

  async get(scope: TenantScope, id: string): Promise<AlertRule> {
    return (await this.rules.get(scope, id)) ?? notFound(id);
  }

  async update(scope: TenantScope, id: string, changes: UpdateAlertRuleBody): Promise<AlertRule> {
    const rule = (await this.rules.update(scope, id, changes)) ?? notFound(id);
    await this.refreshQuietly();
    return rule;
  }

  async delete(scope: TenantScope, id: string): Promise<{ deleted: true }> {
    if (!(await this.rules.delete(scope, id))) notFound(id);
    await this.refreshQuietly();
    return { deleted: true };
  }

  private async refreshQuietly(): Promise<void> {
    await this.refresh().catch((error: unknown) => this.logger.warn(`rule refresh failed: ${String(error)}`));
  }
}

function notFound(id: string): never {
  throw new RpcError('not_found', `alert rule ${id} not found`);
}
