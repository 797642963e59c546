import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiBody, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  DeviceRequests,
  commandAcceptedSchema,
  commandPageSchema,
  commandSchema,
  createCommandBodySchema,
  deviceStateSchema,
  idempotencyKeySchema,
  listCommandsQuerySchema,
  updateDeviceBodySchema,
  type Command,
  type CommandAccepted,
  type CommandPage,
  type CreateCommandBody,
  type DeviceState,
  type ListCommandsQuery,
  type UpdateDeviceBody,
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
const commandParams = z.object({ id: deviceIdSchema, commandId: z.uuid() });
const keyPipe = new ZodValidationPipe(
  z.object({ 'idempotency-key': idempotencyKeySchema.optional() }),
  'header',
);

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

  @Patch(':id')
  @ApiOperation({ summary: 'Change registry fields (publishes device.<org>.<id>.updated)' })
  @ApiBody({ schema: openApiSchema(updateDeviceBodySchema) })
  @ApiResponse({ status: 200, schema: openApiSchema(deviceSchema) })
  @ApiResponse({ status: 404, schema: openApiSchema(errorBodySchema) })
  async update(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
    @Body(new ZodValidationPipe(updateDeviceBodySchema, 'body')) body: UpdateDeviceBody,
  ): Promise<Device> {
    const device = await this.rpc.request(
      DeviceRequests.update,
      { org_id: tenant.orgId, id: params.id, changes: body },
      { orgId: tenant.orgId },
    );
    await this.responses.invalidateDevice(tenant.orgId, params.id);
    return device;
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a device with its commands and state (publishes …deleted)' })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 404, schema: openApiSchema(errorBodySchema) })
  async remove(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
  ): Promise<void> {
    await this.rpc.request(
      DeviceRequests.delete,
      { org_id: tenant.orgId, id: params.id },
      { orgId: tenant.orgId },
    );
    await this.responses.invalidateDevice(tenant.orgId, params.id);
  }

  @Get(':id/state')
  @ApiOperation({ summary: 'Device shadow: reported, desired and their delta' })
  @ApiResponse({ status: 200, schema: openApiSchema(deviceStateSchema) })
  state(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
  ): Promise<DeviceState> {
    return this.rpc.request(
      DeviceRequests.state,
      { org_id: tenant.orgId, id: params.id },
      { orgId: tenant.orgId },
    );
  }

  @Post(':id/commands')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send a command to the device through its vendor integration',
    description:
      'Stored before the answer (never lost), then delivered through the vendor breaker. `status` is the state ' +
      'reached within DEVICE_COMMAND_ANSWER_WAIT_MS (`queued` at once while the vendor breaker is open). The same ' +
      '`Idempotency-Key` for the device returns the first command (`created: false`).',
  })
  @ApiBody({ schema: openApiSchema(createCommandBodySchema) })
  @ApiResponse({ status: 202, schema: openApiSchema(commandAcceptedSchema) })
  @ApiResponse({ status: 404, schema: openApiSchema(errorBodySchema) })
  @ApiResponse({ status: 409, description: 'the device has no known vendor integration' })
  command(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
    @Body(new ZodValidationPipe(createCommandBodySchema, 'body')) body: CreateCommandBody,
    @Headers('idempotency-key') rawKey?: string,
  ): Promise<CommandAccepted> {
    return this.rpc.request(
      DeviceRequests.createCommand,
      {
        org_id: tenant.orgId,
        device_id: params.id,
        command: body,
        idempotency_key: keyPipe.transform({ 'idempotency-key': rawKey })['idempotency-key'],
      },
      { orgId: tenant.orgId },
    );
  }

  @Get(':id/commands')
  @ApiOperation({ summary: "A device's commands, oldest first, with cursor pagination" })
  @ApiQuery({ name: 'status', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiResponse({ status: 200, schema: openApiSchema(commandPageSchema) })
  commands(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
    @Query(new ZodValidationPipe(listCommandsQuerySchema, 'query')) query: ListCommandsQuery,
  ): Promise<CommandPage> {
    return this.rpc.request(
      DeviceRequests.listCommands,
      { org_id: tenant.orgId, device_id: params.id, query },
      { orgId: tenant.orgId },
    );
  }

  @Get(':id/commands/:commandId')
  @ApiOperation({ summary: 'One command with its transitions (status, time, reason)' })
  @ApiResponse({ status: 200, schema: openApiSchema(commandSchema) })
  @ApiResponse({ status: 404, schema: openApiSchema(errorBodySchema) })
  commandById(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(commandParams, 'params')) params: z.infer<typeof commandParams>,
  ): Promise<Command> {
    return this.rpc.request(
      DeviceRequests.getCommand,
      { org_id: tenant.orgId, device_id: params.id, id: params.commandId },
      { orgId: tenant.orgId },
    );
  }
}
