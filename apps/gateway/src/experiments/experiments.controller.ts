import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  LlmRequests,
  createExperimentBodySchema,
  errorBodySchema,
  experimentIdSchema,
  experimentPageSchema,
  experimentResultsSchema,
  experimentSchema,
  outcomeAcceptedSchema,
  outcomeBodySchema,
  runBodySchema,
  runSchema,
  updateExperimentBodySchema,
  type CreateExperimentBody,
  type Experiment,
  type ExperimentResults,
  type OutcomeAccepted,
  type OutcomeBody,
  type Run,
  type RunBody,
  type UpdateExperimentBody,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { RpcClient } from '@conduit/messaging';
import { openApiSchema } from '../common/openapi.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { Authenticated, Tenant } from '../identity/auth.guard.js';

const idParams = z.object({ id: experimentIdSchema });
/** A run waits for the provider (retries included): longer than the default NATS time-out. */
const RUN_TIMEOUT_MS = 120_000;

/** A/B experiments over LLM providers: definitions, runs, outcomes and results. */
@ApiTags('llm')
@Controller('api/v1/experiments')
@Authenticated()
export class ExperimentsController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an experiment (status draft)' })
  @ApiBody({ schema: openApiSchema(createExperimentBodySchema) })
  @ApiResponse({ status: 201, schema: openApiSchema(experimentSchema) })
  @ApiResponse({ status: 400, schema: openApiSchema(errorBodySchema) })
  create(
    @Tenant() tenant: TenantScope,
    @Body(new ZodValidationPipe(createExperimentBodySchema, 'body')) body: CreateExperimentBody,
  ): Promise<Experiment> {
    return this.rpc.request(
      LlmRequests.createExperiment,
      { org_id: tenant.orgId, experiment: body },
      { orgId: tenant.orgId },
    );
  }

  @Get()
  @ApiOperation({ summary: "The org's experiments, newest first" })
  @ApiResponse({ status: 200, schema: openApiSchema(experimentPageSchema) })
  list(@Tenant() tenant: TenantScope): Promise<{ data: Experiment[] }> {
    return this.rpc.request(LlmRequests.listExperiments, { org_id: tenant.orgId }, { orgId: tenant.orgId });
  }

  @Get(':id')
  @ApiResponse({ status: 200, schema: openApiSchema(experimentSchema) })
  @ApiResponse({ status: 404, schema: openApiSchema(errorBodySchema) })
  get(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
  ): Promise<Experiment> {
    return this.rpc.request(
      LlmRequests.getExperiment,
      { org_id: tenant.orgId, id: params.id },
      { orgId: tenant.orgId },
    );
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change an experiment or its status (draft → running ⇄ paused → completed)',
    description: 'Variants, control, fallback and metrics change only while draft: 409 otherwise.',
  })
  @ApiBody({ schema: openApiSchema(updateExperimentBodySchema) })
  @ApiResponse({ status: 200, schema: openApiSchema(experimentSchema) })
  @ApiResponse({ status: 409, schema: openApiSchema(errorBodySchema) })
  update(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
    @Body(new ZodValidationPipe(updateExperimentBodySchema, 'body')) body: UpdateExperimentBody,
  ): Promise<Experiment> {
    return this.rpc.request(
      LlmRequests.updateExperiment,
      { org_id: tenant.orgId, id: params.id, changes: body },
      { orgId: tenant.orgId },
    );
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an experiment with its runs and outcomes' })
  async remove(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
  ): Promise<void> {
    await this.rpc.request(
      LlmRequests.deleteExperiment,
      { org_id: tenant.orgId, id: params.id },
      { orgId: tenant.orgId },
    );
  }

  @Post(':id/run')
  @HttpCode(200)
  @ApiOperation({
    summary: "Run the unit's variant (sticky assignment) and record it (publishes llm.<org>.run.completed)",
    description:
      'Through the response cache, coalescing of identical calls, retries and the provider breaker; the fallback ' +
      'variant answers when the provider fails. 409 unless running; 503 when no answer could be had.',
  })
  @ApiBody({ schema: openApiSchema(runBodySchema) })
  @ApiResponse({ status: 200, schema: openApiSchema(runSchema) })
  @ApiResponse({ status: 503, schema: openApiSchema(errorBodySchema) })
  run(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
    @Body(new ZodValidationPipe(runBodySchema, 'body')) body: RunBody,
  ): Promise<Run> {
    return this.rpc.request(
      LlmRequests.run,
      { org_id: tenant.orgId, id: params.id, run: body },
      { orgId: tenant.orgId, timeoutMs: RUN_TIMEOUT_MS },
    );
  }

  @Post(':id/outcomes')
  @HttpCode(201)
  @ApiOperation({ summary: "Record a unit's outcome of a metric (the latest value per unit counts)" })
  @ApiBody({ schema: openApiSchema(outcomeBodySchema) })
  @ApiResponse({ status: 201, schema: openApiSchema(outcomeAcceptedSchema) })
  outcome(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
    @Body(new ZodValidationPipe(outcomeBodySchema, 'body')) body: OutcomeBody,
  ): Promise<OutcomeAccepted> {
    return this.rpc.request(
      LlmRequests.recordOutcome,
      { org_id: tenant.orgId, id: params.id, outcome: body },
      { orgId: tenant.orgId },
    );
  }

  @Get(':id/results')
  @ApiOperation({
    summary: 'Per-variant figures, tests against control, sample-ratio check, guardrails and a verdict',
  })
  @ApiResponse({ status: 200, schema: openApiSchema(experimentResultsSchema) })
  results(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
  ): Promise<ExperimentResults> {
    return this.rpc.request(
      LlmRequests.results,
      { org_id: tenant.orgId, id: params.id },
      { orgId: tenant.orgId },
    );
  }
}
