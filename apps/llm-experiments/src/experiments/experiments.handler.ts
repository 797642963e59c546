import { Injectable, type OnModuleInit } from '@nestjs/common';
import { LlmRequests } from '@conduit/contracts';
import { RpcServer } from '@conduit/messaging';
import { ProvidersService } from '../providers/providers.service.js';
import { ExperimentsService } from './experiments.service.js';

/** Serves `svc.llm.*` (queue group `llm-experiments`). */
@Injectable()
export class ExperimentsHandler implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly providers: ProvidersService,
    private readonly experiments: ExperimentsService,
  ) {}

  onModuleInit(): void {
    const scope = (req: { org_id: string }) => ({ orgId: req.org_id });
    this.rpc.handle(LlmRequests.createProvider, (req) => this.providers.create(scope(req), req.provider));
    this.rpc.handle(LlmRequests.listProviders, async (req) => ({
      data: await this.providers.list(scope(req)),
    }));
    this.rpc.handle(LlmRequests.getProvider, (req) => this.providers.get(scope(req), req.id));
    this.rpc.handle(LlmRequests.updateProvider, (req) =>
      this.providers.update(scope(req), req.id, req.changes),
    );
    this.rpc.handle(LlmRequests.deleteProvider, (req) => this.providers.delete(scope(req), req.id));
    this.rpc.handle(LlmRequests.createExperiment, (req) =>
      this.experiments.create(scope(req), req.experiment),
    );
    this.rpc.handle(LlmRequests.listExperiments, async (req) => ({
      data: await this.experiments.list(scope(req)),
    }));
    this.rpc.handle(LlmRequests.getExperiment, (req) => this.experiments.get(scope(req), req.id));
    this.rpc.handle(LlmRequests.updateExperiment, (req) =>
      this.experiments.update(scope(req), req.id, req.changes),
    );
    this.rpc.handle(LlmRequests.deleteExperiment, (req) => this.experiments.delete(scope(req), req.id));
    this.rpc.handle(LlmRequests.run, (req) => this.experiments.run(scope(req), req.id, req.run));
    this.rpc.handle(LlmRequests.recordOutcome, (req) =>
      this.experiments.recordOutcome(scope(req), req.id, req.outcome),
    );
    this.rpc.handle(LlmRequests.results, (req) => this.experiments.results(scope(req), req.id));
  }
}
