import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  DeviceRequests,
  createSiteBodySchema,
  errorBodySchema,
  siteIdSchema,
  siteSchema,
  updateSiteBodySchema,
  type CreateSiteBody,
  type Site,
  type UpdateSiteBody,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { RpcClient } from '@conduit/messaging';
import { openApiSchema } from '../common/openapi.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import { Authenticated, RequireRole, Tenant } from '../identity/auth.guard.js';

const idParams = z.object({ id: siteIdSchema });

/** Sites and their vendor integration settings (base URLs, names of token variables). */
@ApiTags('sites')
@Controller('api/v1/sites')
@Authenticated()
export class SitesController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @HttpCode(201)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Register a site with its vendor integration settings (admins)' })
  @ApiBody({ schema: openApiSchema(createSiteBodySchema) })
  @ApiResponse({ status: 201, schema: openApiSchema(siteSchema) })
  @ApiResponse({ status: 409, schema: openApiSchema(errorBodySchema) })
  create(
    @Tenant() tenant: TenantScope,
    @Body(new ZodValidationPipe(createSiteBodySchema, 'body')) body: CreateSiteBody,
  ): Promise<Site> {
    return this.rpc.request(
      DeviceRequests.createSite,
      { org_id: tenant.orgId, site: body },
      { orgId: tenant.orgId },
    );
  }

  @Get()
  @ApiOperation({ summary: "The org's sites" })
  list(@Tenant() tenant: TenantScope): Promise<{ data: Site[] }> {
    return this.rpc.request(DeviceRequests.listSites, { org_id: tenant.orgId }, { orgId: tenant.orgId });
  }

  @Get(':id')
  @ApiResponse({ status: 200, schema: openApiSchema(siteSchema) })
  get(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
  ): Promise<Site> {
    return this.rpc.request(
      DeviceRequests.getSite,
      { org_id: tenant.orgId, id: params.id },
      { orgId: tenant.orgId },
    );
  }

  @Patch(':id')
  @RequireRole('admin')
  @ApiBody({ schema: openApiSchema(updateSiteBodySchema) })
  @ApiResponse({ status: 200, schema: openApiSchema(siteSchema) })
  update(
    @Tenant() tenant: TenantScope,
    @Param(new ZodValidationPipe(idParams, 'params')) params: z.infer<typeof idParams>,
    @Body(new ZodValidationPipe(updateSiteBodySchema, 'body')) body: UpdateSiteBody,
  ): Promise<Site> {
    return this.rpc.request(
      DeviceRequests.updateSite,
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
      DeviceRequests.deleteSite,
      { org_id: tenant.orgId, id: params.id },
      { orgId: tenant.orgId },
    );
  }
}
