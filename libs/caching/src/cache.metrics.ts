import { Counter, Gauge, type Registry } from 'prom-client';
import type { CacheStats } from './two-level-cache.js';

interface StatsSource {
  stats(): CacheStats;
}

const sourcesByRegistry = new WeakMap<Registry, Set<StatsSource>>();

/**
 * `conduit_cache_*` metrics of every cache registered on `registry`, read from the caches'
 * own counters at scrape time — the hot path pays for no label lookup.
 */
export function registerCacheMetrics(registry: Registry, cache: StatsSource): void {
  let sources = sourcesByRegistry.get(registry);
  if (sources) {
    sources.add(cache);
    return;
  }
  sources = new Set([cache]);
  sourcesByRegistry.set(registry, sources);
  const all = sources;
  const each = (fn: (s: CacheStats) => void) => {
    for (const source of all) fn(source.stats());
  };
  new Counter({
    name: 'conduit_cache_requests_total',
    help: 'Cache lookups by namespace, layer (l1|l2) and result (hit|miss)',
    labelNames: ['namespace', 'layer', 'result'] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((s) => {
        this.inc({ namespace: s.namespace, layer: 'l1', result: 'hit' }, s.l1.hits);
        this.inc({ namespace: s.namespace, layer: 'l1', result: 'miss' }, s.l1.misses);
        if (s.l2.enabled) {
          this.inc({ namespace: s.namespace, layer: 'l2', result: 'hit' }, s.l2.hits);
          this.inc({ namespace: s.namespace, layer: 'l2', result: 'miss' }, s.l2.misses);
        }
      });
    },
  });
  new Counter({
    name: 'conduit_cache_sets_total',
    help: 'Values stored by namespace and layer',
    labelNames: ['namespace', 'layer'] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((s) => {
        this.inc({ namespace: s.namespace, layer: 'l1' }, s.l1.sets);
        if (s.l2.enabled) this.inc({ namespace: s.namespace, layer: 'l2' }, s.l2.sets);
      });
    },
  });
  new Counter({
    name: 'conduit_cache_evictions_total',
    help: 'L1 entries evicted to respect its entry or byte bound',
    labelNames: ['namespace'] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((s) => this.inc({ namespace: s.namespace }, s.l1.evictions));
    },
  });
  new Counter({
    name: 'conduit_cache_l2_errors_total',
    help: 'L2 (Redis) calls that failed or timed out and were answered from L1 or the loader',
    labelNames: ['namespace'] as const,
    registers: [registry],
    collect() {
      this.reset();
      each((s) => this.inc({ namespace: s.namespace }, s.l2.errors));
    },
  });
  new Gauge({
    name: 'conduit_cache_items',
    help: 'Entries in L1',
    labelNames: ['namespace'] as const,
    registers: [registry],
    collect() {
      each((s) => this.set({ namespace: s.namespace }, s.l1.items));
    },
  });
  new Gauge({
    name: 'conduit_cache_bytes',
    help: 'Approximate bytes of the values in L1',
    labelNames: ['namespace'] as const,
    registers: [registry],
    collect() {
      each((s) => this.set({ namespace: s.namespace }, s.l1.bytes));
    },
  });
}
