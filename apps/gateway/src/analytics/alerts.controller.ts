import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  ALERT_STATUSES,
  AnalyticsRequests,
  SEVERITIES,
  alertActionBodySchema,
  alertSchema,
  analyticsIdSchema,
  errorBodySchema,
  listAlertsQuerySchema,
  type Alert,
  type ListAlertsQuery,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { RpcClient } from '@conduit/messaging';
import { openApiSchema } from '../common/openapi.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { Authenticated, CurrentPrincipal, Tenant } from '../identity/auth.guard.js';
import type { Principal } from '../identity/principal.js';

const idParams = z.object({ id: analyticsIdSchema });
const actionPipe = new ZodValidationPipe(alertActionBodySchema, 'body');

@ApiTags('alerts')
@Controller('api/v1/alerts')
@Authenticated()
export class AlertsController {
  constructor(private readonly rpc: RpcClient) {}

  @Get()
  @ApiOperation({ summary: 'Alerts, newest first, filtered by status, severity and device' })
  @ApiQuery({ name: 'status', required: false, enum: ALERT_STATUSES })
  @ApiQuery({ name: 'severity', required: false, enum: SEVERITIES })
  @ApiQuery({ name: 'device', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1-500, default 100' })
  @ApiResponse({ status: 200, schema: openApiSchema(z.object({ data: z.array(alertSchema) })) })
  list(
    @Tenant() tenant: TenantScope,
    @Query(new ZodValidationPipe(listAlertsQuerySchema, 'query')) query: ListAlertsQuery,
  ): Promise<{ data: Alert[] }> {
    return this.rpc.request(
      AnalyticsRequests.listAlerts,
      { org_id: tenant.orgId, query },
      { orgId: tenant.orgId },
    );
  }

  @Post(':id/ack')
  @HttpCode(200)
  @ApiOperation({ summary: 'Acknowledge an active alert (publishes alert.<org>.acknowledged)' })
  @ApiBody({ required: false, schema: openApiSchema(alertActionBodySchema) })
  @ApiResponse({ status: 200, schema: openApiSchema(alertSchema) })
  @ApiResponse({ status: 404, schema: openApiSchema(errorBodySchema) })
  @ApiResponse({ status: 409, description: 'the alert is not active' })
  acknowledge(
    @Tenant() tenant: TenantScope,
    @CurrentPrincipal() principal: Principal,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
    @Body() body: unknown,
  ): Promise<Alert> {
    actionPipe.transform(body);
    return this.rpc.request(
      AnalyticsRequests.acknowledgeAlert,
      { org_id: tenant.orgId, id: params.id, by: principal.userId },
      { orgId: tenant.orgId },
    );
  }

  @Post(':id/resolve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resolve an active or acknowledged alert (publishes alert.<org>.resolved)' })
  @ApiBody({ required: false, schema: openApiSchema(alertActionBodySchema) })
  @ApiResponse({ status: 200, schema: openApiSchema(alertSchema) })
  @ApiResponse({ status: 404, schema: openApiSchema(errorBodySchema) })
  @ApiResponse({ status: 409, description: 'the alert is already resolved' })
  resolve(
    @Tenant() tenant: TenantScope,
    @CurrentPrincipal() principal: Principal,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
    @Body() body: unknown,
  ): Promise<Alert> {
    actionPipe.transform(body);
    return this.rpc.request(
      AnalyticsRequests.resolveAlert,
      { org_id: tenant.orgId, id: params.id, by: principal.userId },
      { orgId: tenant.orgId },
    );
  }
}
