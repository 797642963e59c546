import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  bucketSourceSchema,
  AnalyticsRequests,
  analyticsSummarySchema,
  anomaliesQuerySchema,
  anomalySchema,
  bucketRowSchema,
  capacityBodySchema,
  capacityEstimateSchema,
  errorBodySchema,
  rollupsQuerySchema,
  summaryQuerySchema,
  type AnalyticsSummary,
  type AnomaliesQuery,
  type Anomaly,
  type CapacityBody,
  type CapacityEstimate,
  type ResponseOf,
  type RollupsQuery,
  type SummaryQuery,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { RpcClient } from '@conduit/messaging';
import { openApiSchema } from '../common/openapi.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { Authenticated, RequireRole, Tenant } from '../identity/auth.guard.js';

@ApiTags('analytics')
@Controller('api/v1/analytics')
@Authenticated()
export class AnalyticsController {
  constructor(private readonly rpc: RpcClient) {}

  @Get('anomalies')
  @ApiOperation({ summary: 'Points the streaming detector flagged (spike or drift), newest first' })
  @ApiQuery({ name: 'from', required: true })
  @ApiQuery({ name: 'to', required: true })
  @ApiQuery({ name: 'device', required: false })
  @ApiQuery({ name: 'metric', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1-10000, default 1000' })
  @ApiResponse({ status: 200, schema: openApiSchema(z.object({ data: z.array(anomalySchema) })) })
  anomalies(
    @Tenant() tenant: TenantScope,
    @Query(new ZodValidationPipe(anomaliesQuerySchema, 'query')) query: AnomaliesQuery,
  ): Promise<{ data: Anomaly[] }> {
    return this.rpc.request(
      AnalyticsRequests.anomalies,
      { org_id: tenant.orgId, query },
      { orgId: tenant.orgId },
    );
  }

  @Get('summary')
  @ApiOperation({
    summary: 'Devices online/offline, points per minute, active alerts by severity, top anomalous devices',
  })
  @ApiQuery({ name: 'minutes', required: false, description: 'points-per-minute window, default 15' })
  @ApiQuery({ name: 'top', required: false, description: 'top anomalous devices, default 10' })
  @ApiResponse({ status: 200, schema: openApiSchema(analyticsSummarySchema) })
  summary(
    @Tenant() tenant: TenantScope,
    @Query(new ZodValidationPipe(summaryQuerySchema, 'query')) query: SummaryQuery,
  ): Promise<AnalyticsSummary> {
    return this.rpc.request(
      AnalyticsRequests.summary,
      { org_id: tenant.orgId, query },
      { orgId: tenant.orgId },
    );
  }

  @Get('rollups')
  @ApiOperation({
    summary: 'Hourly or daily buckets of devices (asked of telemetry; long ranges read points_hourly)',
  })
  @ApiQuery({ name: 'device', required: true, description: 'device id, or a comma-separated list' })
  @ApiQuery({ name: 'metric', required: false })
  @ApiQuery({ name: 'from', required: true })
  @ApiQuery({ name: 'to', required: true })
  @ApiQuery({ name: 'interval', required: false, enum: ['1h', '1d'] })
  @ApiQuery({
    name: 'agg',
    required: false,
    description: 'avg,min,max,count,sum (default avg,min,max,count)',
  })
  @ApiResponse({
    status: 200,
    schema: openApiSchema(z.object({ data: z.array(bucketRowSchema), source: bucketSourceSchema })),
  })
  rollups(
    @Tenant() tenant: TenantScope,
    @Query(new ZodValidationPipe(rollupsQuerySchema, 'query')) query: RollupsQuery,
  ): Promise<ResponseOf<typeof AnalyticsRequests.rollups>> {
    return this.rpc.request(
      AnalyticsRequests.rollups,
      { org_id: tenant.orgId, query },
      { orgId: tenant.orgId },
    );
  }

  @Post('capacity')
  @HttpCode(200)
  @RequireRole('viewer')
  @ApiOperation({
    summary:
      'Cores, memory, storage and bandwidth for a fleet, from the measured ingest rate (formula included)',
  })
  @ApiBody({ schema: openApiSchema(capacityBodySchema) })
  @ApiResponse({ status: 200, schema: openApiSchema(capacityEstimateSchema) })
  @ApiResponse({ status: 400, schema: openApiSchema(errorBodySchema) })
  capacity(
    @Tenant() tenant: TenantScope,
    @Body(new ZodValidationPipe(capacityBodySchema, 'body')) body: CapacityBody,
  ): Promise<CapacityEstimate> {
    return this.rpc.request(
      AnalyticsRequests.capacity,
      { org_id: tenant.orgId, input: body },
      { orgId: tenant.orgId },
    );
  }
}
