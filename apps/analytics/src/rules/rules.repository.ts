import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AlertRule, CreateAlertRuleBody, UpdateAlertRuleBody } from '@conduit/contracts';
import { rowsOf, type TenantScope } from '@conduit/database';
import { DataSource } from 'typeorm';
import { AlertsRepository } from '../alerts/alerts.repository.js';

interface RuleRow extends Omit<AlertRule, 'created_at' | 'updated_at'> {
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, org_id, name, metric, scope, condition, mode, severity, cooldown_seconds, escalation,
  auto_resolve_after, enabled, created_at, updated_at`;

const toRule = (r: RuleRow): AlertRule => ({
  ...r,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

/** Alert rules per org (`analytics.rules`). */
@Injectable()
export class RulesRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly alerts: AlertsRepository,
  ) {}

  async create(scope: TenantScope, body: CreateAlertRuleBody): Promise<AlertRule> {
    const rows: RuleRow[] = await this.dataSource.query(
      `INSERT INTO analytics.rules (${COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, date_trunc('milliseconds', now()), date_trunc('milliseconds', now()))
       RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        scope.orgId,
        body.name,
        body.metric,
        JSON.stringify(body.scope),
        JSON.stringify(body.condition),
        JSON.stringify(body.mode),
        body.severity,
        body.cooldown_seconds,
        JSON.stringify(body.escalation),
        body.auto_resolve_after,
        body.enabled,
      ],
    );
    return toRule(rows[0] as RuleRow);
  }

  async list(scope: TenantScope): Promise<AlertRule[]> {
    const rows: RuleRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM analytics.rules WHERE org_id = $1 ORDER BY created_at, id`,
      [scope.orgId],
    );
    return rows.map(toRule);
  }

  /** Every enabled rule of every org: what the engine evaluates. */
  async listEnabled(): Promise<AlertRule[]> {
    const rows: RuleRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM analytics.rules WHERE enabled ORDER BY org_id, created_at, id`,
    );
    return rows.map(toRule);
  }

  async get(scope: TenantScope, id: string): Promise<AlertRule | undefined> {
    const rows: RuleRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM analytics.rules WHERE org_id = $1 AND id = $2`,
      [scope.orgId, id],
    );
    return rows[0] ? toRule(rows[0]) : undefined;
  }

  async update(scope: TenantScope, id: string, changes: UpdateAlertRuleBody): Promise<AlertRule | undefined> {
    const sets: string[] = [];
    const params: unknown[] = [scope.orgId, id];
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      params.push(typeof value === 'object' ? JSON.stringify(value) : value);
      sets.push(`${field} = $${params.length}`);
    }
    const rows = rowsOf<RuleRow>(
      await this.dataSource.query(
        `UPDATE analytics.rules SET ${sets.join(', ')}, updated_at = date_trunc('milliseconds', now())
        WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
        params,
      ),
    );
    return rows[0] ? toRule(rows[0]) : undefined;
  }

  /** Deletes a rule and resolves its open alerts (`resolved_by: "rule-deleted"`, events published). */
  async delete(scope: TenantScope, id: string): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const [, count]: [unknown, number] = await tx.query(
        `DELETE FROM analytics.rules WHERE org_id = $1 AND id = $2`,
        [scope.orgId, id],
      );
      if (count === 0) return false;
      await this.alerts.resolveForRule(tx, scope, id, 'rule-deleted');
      return true;
    });
  }
}
