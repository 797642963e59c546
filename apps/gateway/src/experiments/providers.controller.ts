import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  LlmRequests,
  createProviderBodySchema,
  errorBodySchema,
  providerIdSchema,
  providerSchema,
  updateProviderBodySchema,
  type CreateProviderBody,
  type Provider,
  type UpdateProviderBody,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { RpcClient } from '@conduit/messaging';
import { openApiSchema } from '../common/openapi.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { Authenticated, RequireRole, Tenant } from '../identity/auth.guard.js';

const idParams = z.object({ id: providerIdSchema });

/** LLM providers: OpenAI-compatible endpoints (key by environment variable name) or `local`. */
@ApiTags('llm')
@Controller('api/v1/providers')
@Authenticated()
export class ProvidersController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @RequireRole('admin')
  @ApiOperation({
    summary: 'Register an LLM provider (admins)',
    description:
      '`api_key_env` names an environment variable of llm-experiments holding the key: the key itself is never sent, stored or logged.',
  })
  @ApiBody({ schema: openApiSchema(createProviderBodySchema) })
  @ApiResponse({ status: 201, schema: openApiSchema(providerSchema) })
  @ApiResponse({ status: 409, schema: openApiSchema(errorBodySchema) })
  create(
    @Tenant() tenant: TenantScope,
    @Body(new ZodValidationPipe(createProviderBodySchema, 'body')) body: CreateProviderBody,
  ): Promise<Provider> {
    return this.rpc.request(
      LlmRequests.createProvider,
      { org_id: tenant.orgId, provider: body },
      { orgId: tenant.orgId },
    );
  }

  @Get()
  @ApiOperation({ summary: "The org's LLM providers" })
  list(@Tenant() tenant: TenantScope): Promise<{ data: Provider[] }> {
    return this.rpc.request(LlmRequests.listProviders, { org_id: tenant.orgId }, { orgId: tenant.orgId });
  }

  @Get(':id')
  @ApiResponse({ status: 200, schema: openApiSchema(providerSchema) })
  @ApiResponse({ status: 404, schema: openApiSchema(errorBodySchema) })
  get(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
  ): Promise<Provider> {
    return this.rpc.request(
      LlmRequests.getProvider,
      { org_id: tenant.orgId, id: params.id },
      { orgId: tenant.orgId },
    );
  }

  @Patch(':id')
  @RequireRole('admin')
  @ApiBody({ schema: openApiSchema(updateProviderBodySchema) })
  @ApiResponse({ status: 200, schema: openApiSchema(providerSchema) })
  update(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
    @Body(new ZodValidationPipe(updateProviderBodySchema, 'body')) body: UpdateProviderBody,
  ): Promise<Provider> {
    return this.rpc.request(
      LlmRequests.updateProvider,
      { org_id: tenant.orgId, id: params.id, changes: body },
      { orgId: tenant.orgId },
    );
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireRole('admin')
  async remove(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
  ): Promise<void> {
    await this.rpc.request(
      LlmRequests.deleteProvider,
      { org_id: tenant.orgId, id: params.id },
      { orgId: tenant.orgId },
    );
  }
}
