import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  AnalyticsRequests,
  alertRuleSchema,
  analyticsIdSchema,
  createAlertRuleBodySchema,
  errorBodySchema,
  updateAlertRuleBodySchema,
  type AlertRule,
  type CreateAlertRuleBody,
  type UpdateAlertRuleBody,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { RpcClient } from '@conduit/messaging';
import { openApiSchema } from '../common/openapi.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { Authenticated, Tenant } from '../identity/auth.guard.js';

const idParams = z.object({ id: analyticsIdSchema });

@ApiTags('alerts')
@Controller('api/v1/alert-rules')
@Authenticated()
export class AlertRulesController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Create a threshold rule (gt / lt / outside / no_data; simple, duration or repeating)',
    description:
      'Evaluated on every point of `metric` from devices in `scope`, in point time. One open alert per rule, ' +
      'device and metric; `cooldown_seconds` after a raise; `escalation` raises the severity while the breach ' +
      'lasts; `auto_resolve_after` normal points resolve it. Applies on every analytics replica within ' +
      'ANALYTICS_RULES_REFRESH_MS.',
  })
  @ApiBody({ schema: openApiSchema(createAlertRuleBodySchema) })
  @ApiResponse({ status: 201, schema: openApiSchema(alertRuleSchema) })
  @ApiResponse({ status: 400, schema: openApiSchema(errorBodySchema) })
  create(
    @Tenant() tenant: TenantScope,
    @Body(new ZodValidationPipe(createAlertRuleBodySchema, 'body')) body: CreateAlertRuleBody,
  ): Promise<AlertRule> {
    return this.rpc.request(
      AnalyticsRequests.createRule,
      { org_id: tenant.orgId, rule: body },
      { orgId: tenant.orgId },
    );
  }

  @Get()
  @ApiOperation({ summary: "The org's alert rules, oldest first" })
  @ApiResponse({ status: 200, schema: openApiSchema(z.object({ data: z.array(alertRuleSchema) })) })
  list(@Tenant() tenant: TenantScope): Promise<{ data: AlertRule[] }> {
    return this.rpc.request(AnalyticsRequests.listRules, { org_id: tenant.orgId }, { orgId: tenant.orgId });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One alert rule' })
  @ApiResponse({ status: 200, schema: openApiSchema(alertRuleSchema) })
  @ApiResponse({ status: 404, schema: openApiSchema(errorBodySchema) })
  get(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
  ): Promise<AlertRule> {
    return this.rpc.request(
      AnalyticsRequests.getRule,
      { org_id: tenant.orgId, id: params.id },
      { orgId: tenant.orgId },
    );
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a rule (condition state of its series is kept)' })
  @ApiBody({ schema: openApiSchema(updateAlertRuleBodySchema) })
  @ApiResponse({ status: 200, schema: openApiSchema(alertRuleSchema) })
  @ApiResponse({ status: 404, schema: openApiSchema(errorBodySchema) })
  update(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
    @Body(new ZodValidationPipe(updateAlertRuleBodySchema, 'body')) body: UpdateAlertRuleBody,
  ): Promise<AlertRule> {
    return this.rpc.request(
      AnalyticsRequests.updateRule,
      { org_id: tenant.orgId, id: params.id, changes: body },
      { orgId: tenant.orgId },
    );
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a rule; its open alerts are resolved (`resolved_by: "rule-deleted"`)' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 404, schema: openApiSchema(errorBodySchema) })
  async remove(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
  ): Promise<void> {
    await this.rpc.request(
      AnalyticsRequests.deleteRule,
      { org_id: tenant.orgId, id: params.id },
      { orgId: tenant.orgId },
    );
  }
}
