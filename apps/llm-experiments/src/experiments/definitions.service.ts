import { Inject, Injectable } from '@nestjs/common';
import type { TwoLevelCache } from '@conduit/caching';
import type { Experiment, Provider } from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';

/** The service's two-level cache (responses and definitions), namespace `llm`. */
export const LLM_CACHE = Symbol('LLM_CACHE');

/**
 * How long a definition may be served after a change that another replica's invalidation
 * broadcast did not reach (the broadcast normally drops it within milliseconds).
 */
const DEFINITION_TTL_MS = 10_000;

const experimentKey = (scope: TenantScope, id: string) => `def|exp|${scope.orgId}|${id}`;
const providerKey = (scope: TenantScope, id: string) => `def|prov|${scope.orgId}|${id}`;

/**
 * Experiment and provider definitions for the run path, from the cache instead of two Postgres
 * round trips per run. Every change drops the entry on every replica (the cache's NATS
 * broadcast) before the change is answered, so a paused experiment stops taking runs at once.
 */
@Injectable()
export class DefinitionsService {
  constructor(@Inject(LLM_CACHE) private readonly cache: TwoLevelCache) {}

  experiment(scope: TenantScope, id: string, load: () => Promise<Experiment>): Promise<Experiment> {
    return this.cache.getOrSet(experimentKey(scope, id), load, { ttlMs: DEFINITION_TTL_MS });
  }

  async providers(
    scope: TenantScope,
    ids: readonly string[],
    load: (id: string) => Promise<Provider | null>,
  ): Promise<Provider[]> {
    // A missing provider is cached as null too: a run naming it is refused without a query.
    const found = await Promise.all(
      ids.map((id) =>
        this.cache.getOrSet(providerKey(scope, id), () => load(id), { ttlMs: DEFINITION_TTL_MS }),
      ),
    );
    return found.filter((p): p is Provider => p !== null);
  }

  forgetExperiment(scope: TenantScope, id: string): Promise<void> {
    return this.cache.delete(experimentKey(scope, id));
  }

  forgetProvider(scope: TenantScope, id: string): Promise<void> {
    return this.cache.delete(providerKey(scope, id));
  }
}
