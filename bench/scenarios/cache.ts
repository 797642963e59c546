import { randomUUID } from 'node:crypto';
import { createCacheRedis, TwoLevelCache } from '@conduit/caching';
import { LRUCache } from 'lru-cache';
import { atLeast, below } from '../src/report.js';
import { round } from '../src/stats.js';
import type { Scenario } from './scenario.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const KEYS = 10_000;
const VALUE = { id: 'device-0001', name: 'pump 1', site: 'site-3', status: 'online', tags: ['a', 'b'] };

/** Operations per second of `op` run `n` times in a tight loop (after a warm-up of n / 10). */
function opsPerSecond(n: number, op: (i: number) => unknown): number {
  for (let i = 0; i < n / 10; i++) op(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) op(i);
  return n / ((performance.now() - t0) / 1000);
}

/** Same, for an async op awaited one after another. */
async function asyncOpsPerSecond(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < n / 10; i++) await op(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await op(i);
  return n / ((performance.now() - t0) / 1000);
}

/** Operations per second with `inFlight` concurrent workers for `seconds`. */
async function concurrentOpsPerSecond(
  inFlight: number,
  seconds: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async (_, w) => {
      for (let i = w; performance.now() < deadline; i += inFlight) {
        await op(i);
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

/** Ranks 0..n-1 drawn with probability ∝ 1 / (rank + 1)^s. */
function zipf(n: number, s: number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s;
  return () => {
    const x = Math.random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/**
 * `@conduit/caching` against the bare libraries it is built on, in the same run: L1 gets and
 * sets vs bare lru-cache, L2 gets with 256 in flight vs bare ioredis, and the L1 hit ratio of a
 * Zipf-distributed workload. Needs Redis only (REDIS_URL), not the stack.
 */
export const cache: Scenario = {
  name: 'cache',
  description: 'L1 gets/sets vs bare lru-cache, L2 gets (256 in flight) vs bare ioredis, Zipf hit ratio',
  options: {
    ops: 'L1 operations per measurement (2000000)',
    seconds: 'seconds per L2 measurement (5)',
    inflight: 'concurrent L2 operations (256)',
  },
  async run(ctx) {
    const ops = ctx.flag('ops', 2_000_000);
    const seconds = ctx.flag('seconds', 5);
    const inFlight = ctx.flag('inflight', 256);
    const keys = Array.from({ length: KEYS }, (_, i) => `device:${i}`);
    const keyOf = (i: number) => keys[i % KEYS] as string;

    // L1
    const bare = new LRUCache<string, object>({ max: KEYS * 2 });
    for (const k of keys) bare.set(k, VALUE);
    const l1 = new TwoLevelCache({
      namespace: `bench-l1-${randomUUID()}`,
      l1: { maxEntries: KEYS * 2 },
      defaultTtlMs: 3_600_000,
    });
    for (const k of keys) await l1.set(k, VALUE, { l1Only: true });
    console.log(`L1: ${ops} gets each (bare lru-cache, peek, getOrSet hit), then sets`);
    const bareGets = opsPerSecond(ops, (i) => bare.get(keyOf(i)));
    const peekGets = opsPerSecond(ops, (i) => l1.peek(keyOf(i)));
    const loader = async () => VALUE;
    const getOrSetHits = await asyncOpsPerSecond(ops / 4, (i) =>
      l1.getOrSet(keyOf(i), loader, { l1Only: true }),
    );
    const bareSets = opsPerSecond(ops / 4, (i) => bare.set(keyOf(i), VALUE));
    const l1Sets = await asyncOpsPerSecond(ops / 4, (i) => l1.set(keyOf(i), VALUE, { l1Only: true }));

    // L2: one instance writes, another (L1 of one entry: every get goes to Redis) reads.
    // Same client options for the cache and the bare baseline (auto-pipelining, 1 s command timeout).
    const redisA = createCacheRedis(REDIS_URL, { commandTimeoutMs: 1_000 });
    const redisB = createCacheRedis(REDIS_URL, { commandTimeoutMs: 1_000 });
    const bareRedis = createCacheRedis(REDIS_URL, { commandTimeoutMs: 1_000 });
    const ready = async () => {
      for (const r of [redisA, redisB, bareRedis])
        while (r.status !== 'ready') await new Promise((f) => setTimeout(f, 20));
    };
    await ready();
    const ns = `bench-l2-${randomUUID()}`;
    const writer = new TwoLevelCache({
      namespace: ns,
      redis: redisA,
      defaultTtlMs: 600_000,
      redisTimeoutMs: 1_000,
    });
    const reader = new TwoLevelCache({
      namespace: ns,
      redis: redisB,
      l1: { maxEntries: 1 },
      redisTimeoutMs: 1_000,
    });
    await Promise.all(keys.map((k) => writer.set(k, VALUE)));
    console.log(`L2: ${inFlight} in flight, ${seconds} s each (bare ioredis GET, cache get)`);
    const bareL2 = await concurrentOpsPerSecond(inFlight, seconds, (i) =>
      bareRedis.getBuffer(`cache:${ns}:v:${keyOf(i)}`),
    );
    const l2Gets = await concurrentOpsPerSecond(inFlight, seconds, (i) => reader.get(keyOf(i)));
    const l2Stats = reader.stats().l2;
    await writer.clear();
    for (const r of [redisA, redisB, bareRedis]) r.disconnect();

    // Zipf: 100 000 keys, s = 1.1, L1 of 10 000 entries.
    const zipfCache = new TwoLevelCache({
      namespace: `bench-zipf-${randomUUID()}`,
      l1: { maxEntries: 10_000 },
      defaultTtlMs: 3_600_000,
    });
    const draw = zipf(100_000, 1.1);
    for (let i = 0; i < 200_000; i++) await zipfCache.getOrSet(`k${draw()}`, loader, { l1Only: true });
    const before = zipfCache.stats().l1;
    for (let i = 0; i < 1_000_000; i++) await zipfCache.getOrSet(`k${draw()}`, loader, { l1Only: true });
    const after = zipfCache.stats().l1;
    const zipfHitRatio =
      (after.hits - before.hits) / (after.hits - before.hits + after.misses - before.misses);

    const metrics = {
      l1_gets_per_s: round(peekGets),
      l1_get_or_set_hits_per_s: round(getOrSetHits),
      l1_baseline_gets_per_s: round(bareGets),
      l1_ratio: round(bareGets / peekGets, 3),
      l1_sets_per_s: round(l1Sets),
      l1_baseline_sets_per_s: round(bareSets),
      l2_gets_per_s: round(l2Gets),
      l2_baseline_gets_per_s: round(bareL2),
      l2_ratio: round(bareL2 / l2Gets, 3),
      l2_errors: l2Stats.errors,
      zipf_hit_ratio: round(zipfHitRatio, 4),
    };
    return {
      params: {
        ops,
        l2_seconds: seconds,
        l2_in_flight: inFlight,
        keys: KEYS,
        zipf: { keys: 100_000, s: 1.1, l1_entries: 10_000 },
      },
      metrics,
      goals: {
        l1_gets_per_s: atLeast(metrics.l1_gets_per_s, 2_000_000),
        l1_ratio: below(metrics.l1_ratio, 2),
        l2_gets_per_s: atLeast(metrics.l2_gets_per_s, 80_000),
        l2_ratio: below(metrics.l2_ratio, 1.5),
      },
      ...(l2Stats.errors > 0 ? { failure: `${l2Stats.errors} L2 errors during the measurement` } : {}),
    };
  },
};
