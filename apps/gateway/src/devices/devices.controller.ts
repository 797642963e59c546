import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiBody, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  DeviceRequests,
  createDeviceBodySchema,
  deviceIdSchema,
  devicePageSchema,
  deviceSchema,
  errorBodySchema,
  listDevicesQuerySchema,
  type CreateDeviceBody,
  type Device,
  type ListDevicesQuery,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { RpcClient } from '@conduit/messaging';
import { openApiSchema } from '../common/openapi.js';
import { Authenticated, Tenant } from '../identity/auth.guard.js';
import { CacheResponse } from '../cache/cache-response.interceptor.js';
import { deviceTags, ResponseCacheService } from '../cache/response-cache.service.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';

const idParams = z.object({ id: deviceIdSchema });

@ApiTags('devices')
@Controller('api/v1/devices')
@Authenticated()
export class DevicesController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly responses: ResponseCacheService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a device (publishes device.<org>.<id>.registered)' })
  @ApiBody({ schema: openApiSchema(createDeviceBodySchema) })
  @ApiResponse({ status: 201, schema: openApiSchema(deviceSchema) })
  @ApiResponse({ status: 400, schema: openApiSchema(errorBodySchema) })
  async create(
    @Tenant() tenant: TenantScope,
    @Body(new ZodValidationPipe(createDeviceBodySchema, 'body')) body: CreateDeviceBody,
  ): Promise<Device> {
    const device = await this.rpc.request(
      DeviceRequests.create,
      { org_id: tenant.orgId, device: body },
      { orgId: tenant.orgId },
    );
    // Before answering: the caller's next read must see the write (the event also invalidates, later).
    await this.responses.invalidateDevice(tenant.orgId, device.id);
    return device;
  }

  @Get()
  @CacheResponse({ tags: (p) => [deviceTags.list(p.orgId)] })
  @ApiOperation({ summary: 'List devices with filters and cursor pagination' })
  @ApiQuery({ name: 'site', required: false })
  @ApiQuery({ name: 'type', required: false })
  @ApiQuery({ name: 'status', required: false, enum: ['online', 'offline', 'unknown'] })
  @ApiQuery({ name: 'limit', required: false, description: '1-500, default 50' })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiResponse({ status: 200, schema: openApiSchema(devicePageSchema) })
  async list(
    @Tenant() tenant: TenantScope,
    @Query(new ZodValidationPipe(listDevicesQuerySchema, 'query')) query: ListDevicesQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    // Forwarded as device-control wrote it: no parse and re-serialise of up to 500 devices.
    void reply.header('content-type', 'application/json; charset=utf-8');
    return this.rpc.requestJson(
      DeviceRequests.list,
      { org_id: tenant.orgId, query },
      { orgId: tenant.orgId },
    );
  }

  @Get(':id')
  @CacheResponse({ tags: (p, params) => [deviceTags.one(p.orgId, params['id'] ?? '')] })
  @ApiOperation({ summary: 'Get one device' })
  @ApiResponse({ status: 200, schema: openApiSchema(deviceSchema) })
  @ApiResponse({ status: 404, schema: openApiSchema(errorBodySchema) })
  get(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
  ): Promise<Device> {
    return this.rpc.request(
      DeviceRequests.get,
      { org_id: tenant.orgId, id: params.id },
      { orgId: tenant.orgId },
    );
  }
}
