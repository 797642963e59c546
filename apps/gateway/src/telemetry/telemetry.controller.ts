import { Body, Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  errorBodySchema,
  ingestAcceptedSchema,
  telemetryBatchBodySchema,
  telemetryReadingSchema,
  type IngestAccepted,
  type TelemetryReading,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { openApiSchema } from '../common/openapi.js';
import { Tenant, TenancyGuard } from '../common/tenancy.guard.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { TelemetryIngestService } from './telemetry-ingest.service.js';

const idempotencyKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 of A-Z a-z 0-9 _ -')
  .optional();
const keyPipe = new ZodValidationPipe(idempotencyKey, 'header');
/** The optional `Idempotency-Key` header, validated (400 naming it when malformed). */
const keyOf = (raw: string | undefined): string | undefined => keyPipe.transform(raw);

@ApiTags('telemetry')
@Controller('api/v1/telemetry')
@UseGuards(TenancyGuard)
export class TelemetryController {
  constructor(private readonly ingest: TelemetryIngestService) {}

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
    @Body(new ZodValidationPipe(telemetryBatchBodySchema, 'body'))
    body: z.infer<typeof telemetryBatchBodySchema>,
    @Headers('idempotency-key') rawKey?: string,
  ): Promise<IngestAccepted> {
    const now = Date.now();
    const points = Array.isArray(body)
      ? body.flatMap((r) => this.ingest.readingToPoints(r, now))
      : body.points;
    return this.ingest.ingest(tenant, points, keyOf(rawKey));
  }
}
