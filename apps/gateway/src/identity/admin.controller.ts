import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { errorBodySchema } from '@conduit/contracts';
import { openApiSchema } from '../common/openapi.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';
import {
  assertOrgAdmin,
  assertPlatformAdmin,
  Authenticated,
  CurrentPrincipal,
  RequireRole,
} from './auth.guard.js';
import {
  apiKeySchema,
  createdKeySchema,
  createKeyBodySchema,
  createOrgBodySchema,
  createUserBodySchema,
  keyParamsSchema,
  orgParamsSchema,
  orgSchema,
  updateOrgBodySchema,
  userSchema,
  type ApiKey,
  type CreatedKey,
  type CreateKeyBody,
  type CreateOrgBody,
  type CreateUserBody,
  type Org,
  type UpdateOrgBody,
  type User,
} from './identity.schemas.js';
import { IdentityService } from './identity.service.js';
import type { Principal } from './principal.js';

type OrgParams = z.infer<typeof orgParamsSchema>;
type KeyParams = z.infer<typeof keyParamsSchema>;
const orgParams = new ZodValidationPipe(orgParamsSchema, 'params');

/**
 * Orgs, users and keys. Platform admins (admins of a system org) manage every org; an org's
 * admins manage their own org's users and keys.
 */
@ApiTags('admin')
@Controller('api/v1/admin/orgs')
@Authenticated()
@RequireRole('admin')
@ApiResponse({ status: 400, schema: openApiSchema(errorBodySchema) })
export class AdminController {
  constructor(private readonly identity: IdentityService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an org (platform admins)' })
  @ApiBody({ schema: openApiSchema(createOrgBodySchema) })
  @ApiResponse({ status: 201, schema: openApiSchema(orgSchema) })
  createOrg(
    @CurrentPrincipal() principal: Principal,
    @Body(new ZodValidationPipe(createOrgBodySchema, 'body')) body: CreateOrgBody,
  ): Promise<Org> {
    assertPlatformAdmin(principal);
    return this.identity.createOrg(body);
  }

  @Get()
  @ApiOperation({ summary: 'List orgs (platform admins)' })
  async listOrgs(@CurrentPrincipal() principal: Principal): Promise<{ data: Org[] }> {
    assertPlatformAdmin(principal);
    return { data: await this.identity.listOrgs() };
  }

  @Get(':orgId')
  @ApiOperation({ summary: 'Get an org' })
  @ApiResponse({ status: 200, schema: openApiSchema(orgSchema) })
  getOrg(@CurrentPrincipal() principal: Principal, @Param(orgParams) params: OrgParams): Promise<Org> {
    assertOrgAdmin(principal, params.orgId);
    return this.identity.getOrg(params.orgId);
  }

  @Patch(':orgId')
  @ApiOperation({ summary: 'Rename an org or change its rate-limit tier (platform admins)' })
  @ApiBody({ schema: openApiSchema(updateOrgBodySchema) })
  @ApiResponse({ status: 200, schema: openApiSchema(orgSchema) })
  updateOrg(
    @CurrentPrincipal() principal: Principal,
    @Param(orgParams) params: OrgParams,
    @Body(new ZodValidationPipe(updateOrgBodySchema, 'body')) body: UpdateOrgBody,
  ): Promise<Org> {
    assertPlatformAdmin(principal);
    return this.identity.updateOrg(params.orgId, body);
  }

  @Post(':orgId/users')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a user in an org' })
  @ApiBody({ schema: openApiSchema(createUserBodySchema) })
  @ApiResponse({ status: 201, schema: openApiSchema(userSchema) })
  createUser(
    @CurrentPrincipal() principal: Principal,
    @Param(orgParams) params: OrgParams,
    @Body(new ZodValidationPipe(createUserBodySchema, 'body')) body: CreateUserBody,
  ): Promise<User> {
    assertOrgAdmin(principal, params.orgId);
    return this.identity.createUser(params.orgId, body);
  }

  @Post(':orgId/keys')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an API key for a user: the key is in this answer and never again' })
  @ApiBody({ schema: openApiSchema(createKeyBodySchema) })
  @ApiResponse({ status: 201, schema: openApiSchema(createdKeySchema) })
  createKey(
    @CurrentPrincipal() principal: Principal,
    @Param(orgParams) params: OrgParams,
    @Body(new ZodValidationPipe(createKeyBodySchema, 'body')) body: CreateKeyBody,
  ): Promise<CreatedKey> {
    assertOrgAdmin(principal, params.orgId);
    return this.identity.createKey(params.orgId, body);
  }

  @Get(':orgId/keys')
  @ApiOperation({ summary: "List an org's keys (without the keys themselves)" })
  @ApiResponse({ status: 200, schema: openApiSchema(z.object({ data: z.array(apiKeySchema) })) })
  async listKeys(
    @CurrentPrincipal() principal: Principal,
    @Param(orgParams) params: OrgParams,
  ): Promise<{ data: ApiKey[] }> {
    assertOrgAdmin(principal, params.orgId);
    return { data: await this.identity.listKeys(params.orgId) };
  }

  @Delete(':orgId/keys/:keyId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key: refused on every replica within a second' })
  async revokeKey(
    @CurrentPrincipal() principal: Principal,
    @Param(new ZodValidationPipe(keyParamsSchema, 'params')) params: KeyParams,
  ): Promise<void> {
    assertOrgAdmin(principal, params.orgId);
    await this.identity.revokeKey(params.orgId, params.keyId);
  }
}
