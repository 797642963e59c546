import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  TelemetryRequests,
  deviceIdSchema,
  telemetryMultiQuerySchema,
  telemetryRangeQuerySchema,
  type TelemetryMultiQuery,
  type TelemetryRangeQuery,
  errorBodySchema,
  ingestAcceptedSchema,
  isCommonTelemetryPointsBody,
  telemetryBatchBodySchema,
  telemetryPointsBodySchema,
  telemetryReadingsBodySchema,
  telemetryReadingSchema,
  type IngestAccepted,
  type TelemetryPoint,
  type TelemetryReading,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { openApiSchema } from '../common/openapi.js';
import { Authenticated, Tenant } from '../identity/auth.guard.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { RpcClient } from '@conduit/messaging';
import { TelemetryIngestService } from './telemetry-ingest.service.js';

const deviceParams = z.object({ deviceId: deviceIdSchema });
const pointsPipe = new ZodValidationPipe(telemetryPointsBodySchema, 'body');
const readingsPipe = new ZodValidationPipe(telemetryReadingsBodySchema, 'body');

const idempotencyKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 of A-Z a-z 0-9 _ -')
  .optional();
const keyPipe = new ZodValidationPipe(idempotencyKey, 'header');
/** The optional `Idempotency-Key` header, validated (400 naming it when malformed). */
const keyOf = (raw: string | undefined): string | undefined => keyPipe.transform(raw);

@ApiTags('telemetry')
@Controller('api/v1/telemetry')
@Authenticated()
export class TelemetryController {
  constructor(
    private readonly ingest: TelemetryIngestService,
    private readonly rpc: RpcClient,
  ) {}

  @Post('query')
  @HttpCode(200)
  @ApiOperation({ summary: 'Buckets of many devices at once' })
  @ApiBody({ schema: openApiSchema(telemetryMultiQuerySchema) })
  query(
    @Tenant() tenant: TenantScope,
    @Body(new ZodValidationPipe(telemetryMultiQuerySchema, 'body')) query: TelemetryMultiQuery,
  ) {
    return this.rpc.request(
      TelemetryRequests.query,
      { org_id: tenant.orgId, query },
      { orgId: tenant.orgId },
    );
  }

  @Get(':deviceId/latest')
  @ApiOperation({ summary: 'Last value of each metric of a device' })
  latest(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(deviceParams, 'params')) params: z.infer<typeof deviceParams>,
  ) {
    return this.rpc.request(
      TelemetryRequests.latest,
      { org_id: tenant.orgId, device_id: params.deviceId },
      { orgId: tenant.orgId },
    );
  }

  @Get(':deviceId')
  @ApiOperation({
    summary: 'Raw points (paginated) or, with interval= and agg=, buckets; long ranges read hourly rollups',
  })
  range(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(deviceParams, 'params')) params: z.infer<typeof deviceParams>,
    @Query(new ZodValidationPipe(telemetryRangeQuerySchema, 'query')) query: TelemetryRangeQuery,
  ) {
    return this.rpc.request(
      TelemetryRequests.range,
      { org_id: tenant.orgId, device_id: params.deviceId, query },
      { orgId: tenant.orgId },
    );
  }

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Ingest one reading (several metrics of one device); 202 once durable in JetStream',
  })
  @ApiBody({ schema: openApiSchema(telemetryReadingSchema) })
  @ApiResponse({ status: 202, schema: openApiSchema(ingestAcceptedSchema) })
  @ApiResponse({ status: 400, schema: openApiSchema(errorBodySchema) })
  one(
    @Tenant() tenant: TenantScope,
    @Body(new ZodValidationPipe(telemetryReadingSchema, 'body')) body: TelemetryReading,
    @Headers('idempotency-key') rawKey?: string,
  ): Promise<IngestAccepted> {
    return this.ingest.ingest(tenant, this.ingest.readingToPoints(body, Date.now()), keyOf(rawKey));
  }

  @Post('batch')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Ingest up to 100 000 points ({ points: [...] } or an array of readings); 202 once durable',
  })
  @ApiBody({ schema: openApiSchema(telemetryBatchBodySchema) })
  @ApiResponse({ status: 202, schema: openApiSchema(ingestAcceptedSchema) })
  @ApiResponse({ status: 413, schema: openApiSchema(errorBodySchema) })
  batch(
    @Tenant() tenant: TenantScope,
    @Body() raw: unknown,
    @Headers('idempotency-key') rawKey?: string,
  ): Promise<IngestAccepted> {
    // Validated against the form the body has, so that errors name fields (`body.points.3.value`).
    // The common large body (epoch-ms points) skips the schema's copy of every point.
    const body = isCommonTelemetryPointsBody(raw)
      ? (raw as { points: TelemetryPoint[] })
      : Array.isArray(raw)
        ? readingsPipe.transform(raw)
        : pointsPipe.transform(raw);
    const now = Date.now();
    const points = Array.isArray(body)
      ? body.flatMap((r) => this.ingest.readingToPoints(r, now))
      : body.points;
    return this.ingest.ingest(tenant, points, keyOf(rawKey));
  }
}
