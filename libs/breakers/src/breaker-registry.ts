import { register, type Registry } from 'prom-client';
import { Breaker, type BreakerLogger, type BreakerSnapshot, type BreakerStateListener } from './breaker.js';
import { resolveBreakerOptions, type BreakerOptions } from './breaker.config.js';

/** Options of a {@link BreakerRegistry}. */
export interface BreakerRegistryOptions {
  /** Options of every breaker, unless {@link BreakerRegistry.get} overrides some. */
  readonly defaults: BreakerOptions;
  /** Where the `conduit_breaker_*` series go (prom-client's default registry without it). */
  readonly registry?: Registry;
  readonly logger?: BreakerLogger;
  /** Told about every state change of every breaker, e.g. to publish it on the bus. */
  readonly onStateChange?: BreakerStateListener;
}

/**
 * The breakers of one process, by name — one per dependency (`payments-api`, `geo-lookup`). All
 * report to one metrics registry, where the `conduit_breaker_*` metrics are registered once.
 */
export class BreakerRegistry {
  private readonly breakers = new Map<string, Breaker>();

  /** Throws a `RangeError` when `options.defaults` are invalid. */
  constructor(private readonly options: BreakerRegistryOptions) {
    resolveBreakerOptions('defaults', options.defaults);
  }

  /**
   * The breaker named `name`, created on first use with the defaults and `overrides` (keys set to
   * `undefined` are ignored), then the same instance. Overrides passed to a later call do not
   * change an existing breaker; when they differ from its options a warning is logged.
   */
  get(name: string, overrides: Partial<BreakerOptions> = {}): Breaker {
    const defined = Object.fromEntries(
      Object.entries(overrides).filter(([, value]) => value !== undefined),
    ) as Partial<BreakerOptions>;
    const existing = this.breakers.get(name);
    if (existing && !existing.isShutdown) {
      const differs = (Object.keys(defined) as (keyof BreakerOptions)[]).some(
        (key) => Number(defined[key]) !== existing.options[key],
      );
      if (differs) {
        this.options.logger?.warn(`circuit breaker "${name}" exists with other options: overrides ignored`);
      }
      return existing;
    }
    const breaker = new Breaker(
      name,
      { ...this.options.defaults, ...defined },
      {
        registry: this.options.registry ?? register,
        logger: this.options.logger,
        onStateChange: this.options.onStateChange,
      },
    );
    this.breakers.set(name, breaker);
    return breaker;
  }

  /**
   * Names of the breakers that would refuse a call now: open, or half-open with every trial
   * taken. Cheap enough for every request (no snapshots, no sorting).
   */
  refusing(): string[] {
    const names: string[] = [];
    for (const [name, breaker] of this.breakers) {
      if (!breaker.isShutdown && !breaker.isCallPermitted()) names.push(name);
    }
    return names;
  }

  /** Snapshots of the live breakers, by name. */
  list(): BreakerSnapshot[] {
    return [...this.breakers.values()]
      .filter((b) => !b.isShutdown)
      .map((b) => b.stats())
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Shuts breaker `name` down (its opossum breaker and timers; later calls through a kept
   * reference are refused) and drops its metrics series. False when there was none.
   */
  remove(name: string): boolean {
    const breaker = this.breakers.get(name);
    if (!breaker) return false;
    this.breakers.delete(name);
    const wasLive = !breaker.isShutdown;
    breaker.shutdown();
    return wasLive;
  }

  /** Removes every breaker. The registry stays usable: `get` creates breakers anew. */
  shutdown(): void {
    for (const name of [...this.breakers.keys()]) this.remove(name);
  }

  [Symbol.dispose](): void {
    this.shutdown();
  }
}
