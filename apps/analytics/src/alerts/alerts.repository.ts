import { Injectable } from '@nestjs/common';
import {
  AlertAcknowledged,
  AlertEscalated,
  AlertRaised,
  AlertResolved,
  SEVERITIES,
  type Alert,
  type ListAlertsQuery,
  type Severity,
} from '@conduit/contracts';
import { rowsOf, type TenantScope } from '@conduit/database';
import { DataSource, type EntityManager } from 'typeorm';
import { OutboxRepository } from '@conduit/runtime';

/** An alert to open: the engine chose its id, so its series state can point at it before the insert. */
export interface NewAlert {
  readonly id: string;
  readonly orgId: string;
  readonly source: 'rule' | 'anomaly';
  /** The rule id, or `anomaly`. */
  readonly sourceKey: string;
  readonly ruleId: string | null;
  readonly deviceId: string;
  readonly metric: string;
  readonly severity: Severity;
  readonly message: string;
  readonly value: number | null;
  /** Time of the triggering point, epoch ms. */
  readonly triggeredAt: number;
}

interface AlertRow {
  id: string;
  org_id: string;
  source: 'rule' | 'anomaly';
  source_key: string;
  rule_id: string | null;
  device_id: string;
  metric: string;
  severity: Severity;
  status: Alert['status'];
  message: string;
  value: number | null;
  triggered_at: Date;
  raised_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
}

const COLUMNS = `id, org_id, source, source_key, rule_id, device_id, metric, severity, status, message, value,
  triggered_at, raised_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by`;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toAlert(r: AlertRow): Alert {
  return {
    id: r.id,
    org_id: r.org_id,
    source: r.source,
    rule_id: r.rule_id,
    device_id: r.device_id,
    metric: r.metric,
    severity: r.severity,
    status: r.status,
    message: r.message,
    value: r.value,
    triggered_at: r.triggered_at.toISOString(),
    raised_at: r.raised_at.toISOString(),
    acknowledged_at: iso(r.acknowledged_at),
    acknowledged_by: r.acknowledged_by,
    resolved_at: iso(r.resolved_at),
    resolved_by: r.resolved_by,
  };
}

/** Why a user's action on an alert was refused. */
export type AlertActionResult =
  | { readonly kind: 'done'; readonly alert: Alert }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'conflict'; readonly status: Alert['status'] };

/**
 * Alerts and their lifecycle. Every change writes its ALERTS event to the outbox in the same
 * transaction (`alert.<org>.raised|escalated|acknowledged|resolved`, `Nats-Msg-Id` `<alert id>.<event>`), so
 * an event is published exactly when its change commits, and a re-relay is dropped as a duplicate.
 */
@Injectable()
export class AlertsRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
  ) {}

  /**
   * Opens an alert unless one is already open for its (source, device, metric) — the unique
   * partial index decides, so replicas and restarts cannot open two. Returns the id of the open
   * alert: the new one, or the one that was there.
   */
  async raise(tx: EntityManager, a: NewAlert): Promise<{ id: string; created: boolean }> {
    const rows: AlertRow[] = await tx.query(
      `INSERT INTO analytics.alerts (id, org_id, source, source_key, rule_id, device_id, metric, severity, status,
         message, value, triggered_at, raised_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10, to_timestamp($11 / 1000.0), date_trunc('milliseconds', now()))
       ON CONFLICT (org_id, source_key, device_id, metric) WHERE status <> 'resolved' DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        a.id,
        a.orgId,
        a.source,
        a.sourceKey,
        a.ruleId,
        a.deviceId,
        a.metric,
        a.severity,
        a.message,
        a.value,
        a.triggeredAt,
      ],
    );
    const created = rows[0];
    if (created) {
      await this.event(tx, AlertRaised, toAlert(created));
      return { id: created.id, created: true };
    }
    const open: { id: string }[] = await tx.query(
      `SELECT id FROM analytics.alerts
        WHERE org_id = $1 AND source_key = $2 AND device_id = $3 AND metric = $4 AND status <> 'resolved'`,
      [a.orgId, a.sourceKey, a.deviceId, a.metric],
    );
    return { id: open[0]?.id ?? a.id, created: false };
  }

  /**
   * Raises the severity of an open alert to `severity` and publishes `alert.<org>.escalated`
   * (`Nats-Msg-Id` `<alert id>.escalated.<severity>`: an alert reaches each severity once).
   * Nothing happens when it is resolved or already at least that severe.
   */
  async escalate(
    tx: EntityManager,
    scope: TenantScope,
    id: string,
    severity: Severity,
  ): Promise<Alert | undefined> {
    const rows = rowsOf<AlertRow & { previous_severity: Severity }>(
      await tx.query(
        `UPDATE analytics.alerts a SET severity = $3
           FROM (SELECT id, severity FROM analytics.alerts WHERE org_id = $1 AND id = $2 FOR UPDATE) before
          WHERE a.org_id = $1 AND a.id = before.id AND a.status <> 'resolved'
            AND array_position($4::text[], a.severity) < array_position($4::text[], $3::text)
          RETURNING ${COLUMNS.split(',')
            .map((c) => `a.${c.trim()}`)
            .join(', ')}, before.severity AS previous_severity`,
        [scope.orgId, id, severity, SEVERITIES],
      ),
    );
    const row = rows[0];
    if (!row) return undefined;
    const alert = toAlert(row);
    await this.event(tx, AlertEscalated, alert, { previous_severity: row.previous_severity }, alert.severity);
    return alert;
  }

  /** Resolves an open alert by `by` (a user id, `auto`, `rule-deleted`); a resolved one is left alone. */
  async resolveIn(tx: EntityManager, scope: TenantScope, id: string, by: string): Promise<Alert | undefined> {
    const rows = rowsOf<AlertRow>(
      await tx.query(
        `UPDATE analytics.alerts SET status = 'resolved', resolved_at = date_trunc('milliseconds', now()), resolved_by = $3
          WHERE org_id = $1 AND id = $2 AND status <> 'resolved' RETURNING ${COLUMNS}`,
        [scope.orgId, id, by],
      ),
    );
    const row = rows[0];
    if (!row) return undefined;
    const alert = toAlert(row);
    await this.event(tx, AlertResolved, alert);
    return alert;
  }

  /** Resolves every open alert of a rule (it was deleted). */
  async resolveForRule(tx: EntityManager, scope: TenantScope, ruleId: string, by: string): Promise<number> {
    const rows = rowsOf<AlertRow>(
      await tx.query(
        `UPDATE analytics.alerts SET status = 'resolved', resolved_at = date_trunc('milliseconds', now()), resolved_by = $3
          WHERE org_id = $1 AND rule_id = $2 AND status <> 'resolved' RETURNING ${COLUMNS}`,
        [scope.orgId, ruleId, by],
      ),
    );
    for (const row of rows) await this.event(tx, AlertResolved, toAlert(row));
    return rows.length;
  }

  /** `active → acknowledged` by a user. */
  acknowledge(scope: TenantScope, id: string, by: string): Promise<AlertActionResult> {
    return this.dataSource.transaction(async (tx) => {
      const current = await this.lock(tx, scope, id);
      if (!current) return { kind: 'not_found' as const };
      if (current.status !== 'active') return { kind: 'conflict' as const, status: current.status };
      const rows = rowsOf<AlertRow>(
        await tx.query(
          `UPDATE analytics.alerts SET status = 'acknowledged', acknowledged_at = date_trunc('milliseconds', now()),
                  acknowledged_by = $3
            WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
          [scope.orgId, id, by],
        ),
      );
      const alert = toAlert(rows[0] as AlertRow);
      await this.event(tx, AlertAcknowledged, alert);
      return { kind: 'done' as const, alert };
    });
  }

  /**
   * `active|acknowledged → resolved` by a user. The series state that tracks the alert is told in
   * the same transaction (its `open` cleared, its version bumped) so the engine — in whichever
   * replica holds the series — reloads it and may raise a new alert on the next breach.
   */
  resolve(scope: TenantScope, id: string, by: string): Promise<AlertActionResult> {
    return this.dataSource.transaction(async (tx) => {
      const current = await this.lock(tx, scope, id);
      if (!current) return { kind: 'not_found' as const };
      if (current.status === 'resolved') return { kind: 'conflict' as const, status: current.status };
      const alert = (await this.resolveIn(tx, scope, id, by)) as Alert;
      await tx.query(
        `UPDATE analytics.series_state
            SET state = jsonb_set(state, ARRAY['r', $4::text],
                  (state->'r'->$4::text) || '{"open": null, "severity": null, "raisedTs": null, "normal": 0}'::jsonb),
                version = version + 1
          WHERE org_id = $1 AND device_id = $2 AND metric = $3 AND state->'r'->$4::text->>'open' = $5`,
        [scope.orgId, current.device_id, current.metric, current.source_key, id],
      );
      return { kind: 'done' as const, alert };
    });
  }

  /** Newest first, filtered by status, severity and device (served by the open-alert indexes). */
  async list(scope: TenantScope, query: ListAlertsQuery): Promise<Alert[]> {
    const where = ['org_id = $1'];
    const params: unknown[] = [scope.orgId];
    if (query.status) {
      params.push(query.status);
      where.push(`status = $${params.length}`);
    }
    if (query.severity) {
      params.push(query.severity);
      where.push(`severity = $${params.length}`);
    }
    if (query.device) {
      params.push(query.device);
      where.push(`device_id = $${params.length}`);
    }
    params.push(query.limit);
    const rows: AlertRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM analytics.alerts WHERE ${where.join(' AND ')} ORDER BY raised_at DESC, id LIMIT $${params.length}`,
      params,
    );
    return rows.map(toAlert);
  }

  /** Open alerts per severity. */
  async activeBySeverity(scope: TenantScope): Promise<Record<string, number>> {
    const rows: { severity: string; n: number }[] = await this.dataSource.query(
      `SELECT severity, count(*)::int AS n FROM analytics.alerts WHERE org_id = $1 AND status <> 'resolved' GROUP BY 1`,
      [scope.orgId],
    );
    return Object.fromEntries(rows.map((r) => [r.severity, r.n]));
  }

  private async lock(tx: EntityManager, scope: TenantScope, id: string): Promise<AlertRow | undefined> {
    const rows: AlertRow[] = await tx.query(
      `SELECT ${COLUMNS} FROM analytics.alerts WHERE org_id = $1 AND id = $2 FOR UPDATE`,
      [scope.orgId, id],
    );
    return rows[0];
  }

  /**
   * Writes `alert.<org>.<event>` to the outbox: `Nats-Msg-Id` `<alert id>.<event>`, or
   * `<alert id>.<event>.<step>` for an event an alert can have more than once (escalations).
   */
  private async event(
    tx: EntityManager,
    contract: typeof AlertRaised | typeof AlertEscalated | typeof AlertAcknowledged | typeof AlertResolved,
    alert: Alert,
    extra: Record<string, unknown> = {},
    step?: string,
  ): Promise<void> {
    const event = contract.type.split('.')[1] as string;
    await this.outbox.add(tx, {
      subject: contract.subject(alert.org_id),
      msgId: step === undefined ? `${alert.id}.${event}` : `${alert.id}.${event}.${step}`,
      payload: { version: 1, alert, ...extra, occurred_at: new Date().toISOString() },
    });
  }
}
