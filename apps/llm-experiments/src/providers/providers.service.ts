import { Inject, Injectable } from '@nestjs/common';
import type { CreateProviderBody, Provider, UpdateProviderBody } from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { RpcError } from '@conduit/messaging';
import { PROVIDER_CALLS } from '../experiments/experiments.service.js';
import { ProviderCallsService } from './provider-calls.service.js';
import { ProviderExistsError, ProvidersRepository } from './providers.repository.js';
import { DefinitionsService } from '../experiments/definitions.service.js';

/** The provider registry. Changing a provider drops its breaker and limiter in this replica. */
@Injectable()
export class ProvidersService {
  constructor(
    private readonly providers: ProvidersRepository,
    @Inject(PROVIDER_CALLS) private readonly calls: ProviderCallsService,
    private readonly definitions: DefinitionsService,
  ) {}

  async create(scope: TenantScope, body: CreateProviderBody): Promise<Provider> {
    try {
      return await this.providers.create(scope, body);
    } catch (error) {
      if (error instanceof ProviderExistsError) throw new RpcError('conflict', error.message);
      throw error;
    }
  }

  list(scope: TenantScope): Promise<Provider[]> {
    return this.providers.list(scope);
  }

  async get(scope: TenantScope, id: string): Promise<Provider> {
    const found = await this.providers.get(scope, id);
    if (!found) throw new RpcError('not_found', `provider ${id} not found`);
    return found;
  }

  async update(scope: TenantScope, id: string, changes: UpdateProviderBody): Promise<Provider> {
    const updated = await this.providers.update(scope, id, changes);
    if (!updated) throw new RpcError('not_found', `provider ${id} not found`);
    if (updated.kind === 'openai' && updated.base_url === null) {
      throw new RpcError('validation_failed', 'an openai provider needs a base_url', [
        { field: 'base_url', message: 'required for kind openai' },
      ]);
    }
    // New time-out or concurrency: the next call creates the breaker and limiter anew.
    this.calls.forget(scope, id);
    await this.definitions.forgetProvider(scope, id);
    return updated;
  }

  async delete(scope: TenantScope, id: string): Promise<{ deleted: true }> {
    if (!(await this.providers.delete(scope, id)))
      throw new RpcError('not_found', `provider ${id} not found`);
    this.calls.forget(scope, id);
    await this.definitions.forgetProvider(scope, id);
    return { deleted: true };
  }
}
