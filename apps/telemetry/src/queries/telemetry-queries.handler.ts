import { Injectable, type OnModuleInit } from '@nestjs/common';
import { TelemetryRequests } from '@conduit/contracts';
import { RpcServer } from '@conduit/messaging';
import { TelemetryQueriesService } from './telemetry-queries.service.js';

/** Serves `svc.telemetry.*` (queue group `telemetry`). */
@Injectable()
export class TelemetryQueriesHandler implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly queries: TelemetryQueriesService,
  ) {}

  onModuleInit(): void {
    this.rpc.handle(TelemetryRequests.range, (req) =>
      this.queries.range({ orgId: req.org_id }, req.device_id, req.query),
    );
    this.rpc.handle(TelemetryRequests.latest, (req) =>
      this.queries.latest({ orgId: req.org_id }, req.device_id),
    );
    this.rpc.handle(TelemetryRequests.query, (req) => this.queries.query({ orgId: req.org_id }, req.query));
  }
}
