import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { AlertRule } from '@conduit/contracts';
import { OutboxService, SERVICE_CONFIG } from '@conduit/runtime';
import { DataSource } from 'typeorm';
import { AlertsRepository } from '../alerts/alerts.repository.js';
import type { AnalyticsConfig } from '../config/analytics.config.js';
import { DeviceDirectoryService, needsAttributes } from '../devices/device-directory.service.js';
import { newRuleState, type RuleState } from './rule-engine.service.js';
import { RulesService } from './rules.service.js';
import { rowsOf } from '@conduit/database';

const MAX_PER_RULE = 1_000;

/**
 * `no_data` rules: every `ANALYTICS_NO_DATA_CHECK_MS`, each replica looks for series of the rule's
 * metric whose last point arrived more than `minutes` ago and that have no open alert of the rule,
 * and raises one. Only series analytics has seen at least one point of are covered (a device that
 * never sent the metric is not "silent"). The series state is marked in the same transaction, only
 * if it is still stale, so a point arriving meanwhile wins; the consumer resolves the alert when data
 * comes back. Replicas sweeping at once are harmless: the one-open-alert index decides.
 */
@Injectable()
export class NoDataService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(NoDataService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly checkMs: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly rules: RulesService,
    private readonly alerts: AlertsRepository,
    private readonly devices: DeviceDirectoryService,
    private readonly outbox: OutboxService,
    @Inject(SERVICE_CONFIG) config: AnalyticsConfig,
  ) {
    this.checkMs = config.service.noDataCheckMs;
  }

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then((raised) => {
          if (raised > 0) this.outbox.flushSoon();
        })
        .catch((error: unknown) => this.logger.warn(`no-data sweep failed: ${String(error)}`))
        .finally(() => (this.running = undefined));
    }, this.checkMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass over every enabled `no_data` rule; returns alerts raised. */
  async sweep(): Promise<number> {
    let raised = 0;
    for (const rule of this.rules.all()) {
      if (rule.condition.op === 'no_data') raised += await this.sweepRule(rule, rule.condition.minutes);
    }
    return raised;
  }

  private async sweepRule(rule: AlertRule, minutes: number): Promise<number> {
    const stale: { device_id: string; last_seen_at: Date }[] = await this.dataSource.query(
      `SELECT s.device_id, s.last_seen_at FROM analytics.series_state s
        WHERE s.org_id = $1 AND s.metric = $2 AND s.last_seen_at < now() - make_interval(mins => $3)
          AND ($4::text[] IS NULL OR s.device_id = ANY($4))
          AND NOT EXISTS (SELECT 1 FROM analytics.alerts a
                           WHERE a.org_id = s.org_id AND a.source_key = $5 AND a.device_id = s.device_id
                             AND a.metric = s.metric AND a.status <> 'resolved')
        ORDER BY s.device_id LIMIT $6`,
      [rule.org_id, rule.metric, minutes, rule.scope.device_ids ?? null, rule.id, MAX_PER_RULE],
    );
    if (stale.length === 0) return 0;
    if (needsAttributes(rule.scope)) {
      await this.devices.prefetch(stale.map((s) => ({ orgId: rule.org_id, deviceId: s.device_id })));
    }
    let raised = 0;
    for (const s of stale) {
      if (!this.devices.matches(rule.scope, rule.org_id, s.device_id)) continue;
      const created = await this.dataSource.transaction(async (tx) => {
        const now = Date.now();
        const id = randomUUID();
        const state: RuleState = {
          ...newRuleState(),
          open: id,
          severity: rule.severity,
          raisedTs: now,
          lastRaiseTs: now,
        };
        const mark = async (st: RuleState) =>
          rowsOf<unknown>(
            await tx.query(
              `UPDATE analytics.series_state SET state = jsonb_set(state, ARRAY['r', $4::text], $5::jsonb), version = version + 1
              WHERE org_id = $1 AND device_id = $2 AND metric = $3 AND last_seen_at < now() - make_interval(mins => $6)
              RETURNING 1`,
              [rule.org_id, s.device_id, rule.metric, rule.id, JSON.stringify(st), minutes],
            ),
          );
        if ((await mark(state)).length === 0) return false; // a point arrived meanwhile
        const result = await this.alerts.raise(tx, {
          id,
          orgId: rule.org_id,
          source: 'rule',
          sourceKey: rule.id,
          ruleId: rule.id,
          deviceId: s.device_id,
          metric: rule.metric,
          severity: rule.severity,
          message: `${rule.name}: no ${rule.metric} for ${minutes} min (last at ${s.last_seen_at.toISOString()})`,
          value: null,
          triggeredAt: now,
        });
        if (result.id !== id) await mark({ ...state, open: result.id });
        return result.created;
      });
      if (created) raised++;
    }
    return raised;
  }
}
