import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AnalyticsRequests, type Alert } from '@conduit/contracts';
import { RpcError, RpcServer } from '@conduit/messaging';
import { RulesService } from '../rules/rules.service.js';
import { AlertsRepository, type AlertActionResult } from './alerts.repository.js';
import { OutboxService } from '@conduit/runtime';

const outcome = (id: string, result: AlertActionResult, action: string): Alert => {
  switch (result.kind) {
    case 'done':
      return result.alert;
    case 'not_found':
      throw new RpcError('not_found', `alert ${id} not found`);
    case 'conflict':
      throw new RpcError('conflict', `alert ${id} is ${result.status}: it cannot be ${action}`);
  }
};

/** Serves `svc.analytics.rules.*` and `svc.analytics.alerts.*` (queue group `analytics`). */
@Injectable()
export class AlertsHandler implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly rules: RulesService,
    private readonly alerts: AlertsRepository,
    private readonly outbox: OutboxService,
  ) {}

  /** Relays the events a change wrote to the outbox right after it committed. */
  private async flushed<T>(work: Promise<T>): Promise<T> {
    const result = await work;
    this.outbox.flushSoon();
    return result;
  }

  onModuleInit(): void {
    this.rpc.handle(AnalyticsRequests.createRule, (req) =>
      this.rules.create({ orgId: req.org_id }, req.rule),
    );
    this.rpc.handle(AnalyticsRequests.listRules, async (req) => ({
      data: await this.rules.list({ orgId: req.org_id }),
    }));
    this.rpc.handle(AnalyticsRequests.getRule, (req) => this.rules.get({ orgId: req.org_id }, req.id));
    this.rpc.handle(AnalyticsRequests.updateRule, (req) =>
      this.rules.update({ orgId: req.org_id }, req.id, req.changes),
    );
    this.rpc.handle(AnalyticsRequests.deleteRule, (req) =>
      this.flushed(this.rules.delete({ orgId: req.org_id }, req.id)),
    );
    this.rpc.handle(AnalyticsRequests.listAlerts, async (req) => ({
      data: await this.alerts.list({ orgId: req.org_id }, req.query),
    }));
    this.rpc.handle(AnalyticsRequests.acknowledgeAlert, async (req) =>
      outcome(
        req.id,
        await this.flushed(this.alerts.acknowledge({ orgId: req.org_id }, req.id, req.by)),
        'acknowledged',
      ),
    );
    this.rpc.handle(AnalyticsRequests.resolveAlert, async (req) =>
      outcome(
        req.id,
        await this.flushed(this.alerts.resolve({ orgId: req.org_id }, req.id, req.by)),
        'resolved',
      ),
    );
  }
}
