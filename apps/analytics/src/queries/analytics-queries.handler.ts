import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AnalyticsRequests } from '@conduit/contracts';
import { RpcServer } from '@conduit/messaging';
import { AnalyticsQueriesService } from './analytics-queries.service.js';

/** Serves `svc.analytics.anomalies|summary|rollups|capacity` (queue group `analytics`). */
@Injectable()
export class AnalyticsQueriesHandler implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly queries: AnalyticsQueriesService,
  ) {}

  onModuleInit(): void {
    this.rpc.handle(AnalyticsRequests.anomalies, async (req) => ({
      data: await this.queries.anomalies({ orgId: req.org_id }, req.query),
    }));
    this.rpc.handle(AnalyticsRequests.summary, (req) =>
      this.queries.summary({ orgId: req.org_id }, req.query),
    );
    this.rpc.handle(AnalyticsRequests.rollups, (req) =>
      this.queries.rollups({ orgId: req.org_id }, req.query),
    );
    this.rpc.handle(AnalyticsRequests.capacity, (req) => this.queries.capacity(req.input));
  }
}
