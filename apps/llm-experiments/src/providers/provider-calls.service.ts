import { createHash } from 'node:crypto';
import { BreakerOpenError, BreakerTimeoutError, type BreakerRegistry } from '@conduit/breakers';
import type { TwoLevelCache } from '@conduit/caching';
import type { Provider } from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import type { ChatCompletion, ChatRequest, ProviderAdapter } from './provider.adapter.js';
import { ProviderRefusedError, RetryableProviderError, withRetries, type RetryPolicy } from './retry.js';

/** How a call was answered (see `RUN_SOURCES` in contracts). */
export type CallSource = 'provider' | 'cache' | 'coalesced';

export interface CallResult {
  readonly completion: ChatCompletion;
  readonly source: CallSource;
  /** Wall time of this call, in milliseconds (for `provider`: the provider's answer incl. retries). */
  readonly latencyMs: number;
  /** Attempts made (0 when not `provider`). */
  readonly attempts: number;
}

/** Why a call gave no answer, as recorded on the run. */
export class ProviderCallError extends Error {
  constructor(
    readonly code: 'breaker_open' | 'provider_unavailable' | 'provider_refused',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderCallError';
  }
}

export interface ProviderCallsOptions {
  readonly adapters: readonly ProviderAdapter[];
  readonly breakers: BreakerRegistry;
  /** Response cache; null: no cache (identical calls in flight are still coalesced). */
  readonly cache: TwoLevelCache | null;
  readonly cacheTtlMs: number;
  readonly retry: Omit<RetryPolicy, 'maxRetries'>;
}

/** Name of a provider's breaker: per org, since providers (and their endpoints) belong to one. */
export const breakerName = (scope: TenantScope, providerId: string) => `llm:${scope.orgId}:${providerId}`;

/**
 * Every call to an LLM provider goes through here:
 *
 * 1. the response cache, keyed by org, provider and a SHA-256 of (kind, base URL, model,
 *    rendered prompt, parameters) — an L1 hit answers synchronously; `cacheTtlMs` 0 turns it off;
 * 2. coalescing: an identical call already in flight in this replica is shared (`coalesced`);
 *    across replicas the cache's single flight (a Redis lease) does the same;
 * 3. retries with jittered back-off on 408/429/5xx/time-outs, `Retry-After` honoured (a longer
 *    one than `retry.maxDelayMs` fails at once);
 * 4. per attempt, the provider's concurrency limit, then its breaker (`llm:<org>:<provider>`,
 *    time-out = the provider's `timeout_ms`), then the adapter. A refusal (400…) does not count
 *    against the breaker: it says nothing about the provider's health. While the breaker is open
 *    calls fail at once with `breaker_open`, without retries.
 *
 * Failures are never cached.
 */
export class ProviderCallsService {
  private readonly adapters: ReadonlyMap<string, ProviderAdapter>;
  private readonly inflight = new Map<string, Promise<ChatCompletion>>();
  private readonly limiters = new Map<string, ConcurrencyLimiter>();

  constructor(private readonly options: ProviderCallsOptions) {
    this.adapters = new Map(options.adapters.map((a) => [a.kind, a]));
  }

  /** Cache key of a request: the org first, so no entry is ever shared between orgs. */
  cacheKey(scope: TenantScope, provider: Provider, request: ChatRequest): string {
    const params = Object.fromEntries(Object.entries(request.params).sort(([a], [b]) => (a < b ? -1 : 1)));
    const digest = createHash('sha256')
      .update(JSON.stringify([provider.kind, provider.base_url, request.model, request.prompt, params]))
      .digest('base64url');
    return `${scope.orgId}:${provider.id}:${digest}`;
  }

  async call(scope: TenantScope, provider: Provider, request: ChatRequest): Promise<CallResult> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const key = this.cacheKey(scope, provider, request);
    const cache = this.options.cache && this.options.cacheTtlMs > 0 ? this.options.cache : null;

    const hit = cache?.peek<ChatCompletion>(key);
    if (hit) return { completion: hit, source: 'cache', latencyMs: elapsed(), attempts: 0 };

    const pending = this.inflight.get(key);
    if (pending) return { completion: await pending, source: 'coalesced', latencyMs: elapsed(), attempts: 0 };

    let attempts = 0;
    const load = () =>
      this.callProvider(scope, provider, request, () => {
        attempts++;
      });
    const promise = cache ? cache.getOrSet(key, load, { ttlMs: this.options.cacheTtlMs }) : load();
    this.inflight.set(key, promise);
    try {
      const completion = await promise;
      // No attempt made here: another replica's answer, found in L2 (or awaited through its lease).
      return { completion, source: attempts > 0 ? 'provider' : 'cache', latencyMs: elapsed(), attempts };
    } finally {
      if (this.inflight.get(key) === promise) this.inflight.delete(key);
    }
  }

  /** Closes the adapters' connections (at shutdown). */
  close(): void {
    for (const adapter of this.adapters.values()) adapter.close?.();
  }

  /** Drops a provider's breaker and limiter (after its settings changed): recreated on next use. */
  forget(scope: TenantScope, providerId: string): void {
    const name = breakerName(scope, providerId);
    this.options.breakers.remove(name);
    this.limiters.delete(name);
  }

  private limiter(name: string, limit: number): ConcurrencyLimiter {
    let limiter = this.limiters.get(name);
    if (!limiter || limiter.limit !== limit) {
      limiter = new ConcurrencyLimiter(limit);
      this.limiters.set(name, limiter);
    }
    return limiter;
  }

  private async callProvider(
    scope: TenantScope,
    provider: Provider,
    request: ChatRequest,
    onAttempt: () => void,
  ): Promise<ChatCompletion> {
    const adapter = this.adapters.get(provider.kind);
    if (!adapter)
      throw new ProviderCallError('provider_refused', `no adapter for provider kind ${provider.kind}`);
    const name = breakerName(scope, provider.id);
    const breaker = this.options.breakers.get(name, { timeoutMs: provider.timeout_ms });
    const limiter = this.limiter(name, provider.concurrency);
    const attempt = async (): Promise<ChatCompletion> => {
      onAttempt();
      // Refusals come back as values so that the breaker does not count them as failures.
      const outcome = await limiter.run(() =>
        breaker.fire(async (signal) => {
          try {
            return { ok: true as const, completion: await adapter.complete(provider, request, signal) };
          } catch (error) {
            if (error instanceof ProviderRefusedError) return { ok: false as const, error };
            throw error;
          }
        }),
      );
      if (!outcome.ok) throw outcome.error;
      return outcome.completion;
    };
    try {
      return await withRetries(
        () =>
          attempt().catch((error: unknown) => {
            if (error instanceof BreakerTimeoutError)
              throw new RetryableProviderError(
                `provider ${provider.id} timed out after ${provider.timeout_ms} ms`,
              );
            throw error;
          }),
        { ...this.options.retry, maxRetries: provider.max_retries },
      );
    } catch (error) {
      if (error instanceof BreakerOpenError)
        throw new ProviderCallError(
          'breaker_open',
          `provider ${provider.id} is failing: its circuit breaker is open, calls are refused until it recovers`,
          { cause: error },
        );
      if (error instanceof ProviderRefusedError)
        throw new ProviderCallError('provider_refused', error.message, { cause: error });
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderCallError(
        'provider_unavailable',
        `${message} (after ${provider.max_retries + 1 > 1 ? 'retries' : 'one attempt'})`,
        { cause: error },
      );
    }
  }
}
