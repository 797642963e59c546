import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCompressed } from './codec.js';
import { createCacheRedis } from './redis.js';
import { startRedisServer } from './testing/index.js';
import { TwoLevelCache, type TwoLevelCacheOptions } from './two-level-cache.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

const until = async (probe: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two "replicas": each its own Redis and NATS connection, one namespace. */
describe('TwoLevelCache (real Redis and NATS)', () => {
  const clients: { close(): unknown }[] = [];
  let raw: Redis;
  let natsA: NatsConnection;
  let natsB: NatsConnection;

  const replica = async (
    namespace: string,
    nats: NatsConnection | null,
    extra: Partial<TwoLevelCacheOptions> = {},
  ) => {
    const redis = createCacheRedis(REDIS_URL);
    await until(() => redis.status === 'ready');
    const cache = new TwoLevelCache({ namespace, redis, nats, ...extra });
    await cache.start();
    clients.push({ close: () => cache.close() }, { close: () => redis.disconnect() });
    return cache;
  };

  beforeAll(async () => {
    raw = new Redis(REDIS_URL);
    natsA = await connect({ servers: NATS_URL });
    natsB = await connect({ servers: NATS_URL });
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    raw.disconnect();
    await natsA.close();
    await natsB.close();
  });

  it('calls the loader once for 100 concurrent misses of one key', async () => {
    const cache = await replica(`sf-${randomUUID()}`, natsA);
    let calls = 0;
    const values = await Promise.all(
      Array.from({ length: 100 }, () =>
        cache.getOrSet('hot', async () => {
          calls++;
          await sleep(30);
          return { n: 42 };
        }),
      ),
    );
    expect(calls).toBe(1);
    expect(values.every((v) => v.n === 42)).toBe(true);
    expect(cache.stats().singleFlight.coalesced).toBe(99);
  });

  it('calls the loader once across two replicas with 50 concurrent misses each (Redis lease)', async () => {
    const ns = `lease-${randomUUID()}`;
    const a = await replica(ns, natsA);
    const b = await replica(ns, natsB);
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(100);
      return 'filled';
    };
    const results = await Promise.all([
      ...Array.from({ length: 50 }, () => a.getOrSet('k', loader)),
      ...Array.from({ length: 50 }, () => b.getOrSet('k', loader)),
    ]);
    expect(results.every((r) => r === 'filled')).toBe(true);
    expect(calls).toBe(1);
    expect(a.stats().singleFlight.leaseWaits + b.stats().singleFlight.leaseWaits).toBe(1);
  });

  it('asks Redis once before a miss loads (value or lease in one script), and stores it with the lease released', async () => {
    const ns = `rt-${randomUUID()}`;
    const redis = createCacheRedis(REDIS_URL);
    await until(() => redis.status === 'ready');
    const cache = new TwoLevelCache({ namespace: ns, redis, nats: null });
    clients.push({ close: () => cache.close() }, { close: () => redis.disconnect() });
    const sent: string[] = [];
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = (command, stream) => {
      sent.push(command.name);
      return send(command, stream);
    };
    let before: string[] = [];

    const value = await cache.getOrSet('k', async () => {
      before = [...sent];
      return { n: 1 };
    });

    expect(value).toEqual({ n: 1 });
    expect(before).toHaveLength(1); // evalsha (or eval when the script is not cached yet)
    expect(before[0]).toMatch(/^eval/);
    await until(async () => (await raw.exists(`cache:${ns}:l:k`)) === 0);
    expect(await raw.exists(`cache:${ns}:v:k`)).toBe(1);
    // Another instance (another replica) finds it in L2 with that same single call.
    sent.length = 0;
    const other = new TwoLevelCache({ namespace: ns, redis, nats: null });
    clients.push({ close: () => other.close() });
    expect(await other.getOrSet('k', () => Promise.reject(new Error('not called')))).toEqual({ n: 1 });
    expect(sent.filter((c) => !c.startsWith('script'))).toEqual([expect.stringMatching(/^eval/)]);
  });

  it('answers a loaded value without waiting for its L2 write, which close() waits for', async () => {
    const ns = `wb-${randomUUID()}`;
    const redis = createCacheRedis(REDIS_URL);
    await until(() => redis.status === 'ready');
    const cache = new TwoLevelCache({ namespace: ns, redis, nats: null });
    clients.push({ close: () => redis.disconnect() });
    // A slow Redis for SETs only: the write leaves at once, its reply comes 400 ms later.
    const set = redis.set.bind(redis) as (...args: unknown[]) => Promise<unknown>;
    (redis as unknown as { set: (...args: unknown[]) => Promise<unknown> }).set = (...args) =>
      set(...args).then(async (reply) => {
        await sleep(400);
        return reply;
      });

    const started = performance.now();
    expect(await cache.getOrSet('k', async () => ({ n: 1 }))).toEqual({ n: 1 });
    expect(performance.now() - started).toBeLessThan(300);
    await cache.close();
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect(await raw.exists(`cache:${ns}:v:k`)).toBe(1);
  });

  it('serves the second replica from L2 and compresses values above the threshold', async () => {
    const ns = `l2-${randomUUID()}`;
    const a = await replica(ns, natsA, { compressThresholdBytes: 1024 });
    const b = await replica(ns, natsB, { compressThresholdBytes: 1024 });
    const big = { text: 'telemetry '.repeat(500) };
    await a.set('big', big);
    await a.set('small', { text: 'x' });
    const storedBig = await raw.getBuffer(`cache:${ns}:v:big`);
    const storedSmall = await raw.getBuffer(`cache:${ns}:v:small`);
    expect(storedBig && isCompressed(storedBig)).toBe(true);
    expect(storedBig?.length).toBeLessThan(JSON.stringify(big).length / 5);
    expect(storedSmall && isCompressed(storedSmall)).toBe(false);
    let loaded = false;
    const fromB = await b.getOrSet('big', async () => {
      loaded = true;
      return { text: 'wrong' };
    });
    expect(loaded).toBe(false);
    expect(fromB).toEqual(big);
    expect(b.stats().l2.hits).toBe(1);
  });

  it('invalidates by tag and by pattern in both layers and in the other replica’s L1 (NATS)', async () => {
    const ns = `inv-${randomUUID()}`;
    const a = await replica(ns, natsA);
    const b = await replica(ns, natsB);
    await a.set('org1|/devices', 'list', { tags: ['devices:org1'] });
    await a.set('org1|/devices/7', 'one', { tags: ['device:org1:7'] });
    await a.set('org2|/devices', 'other', { tags: ['devices:org2'] });
    // Warm b's L1 from L2.
    expect(await b.get('org1|/devices')).toBe('list');
    expect(await b.get('org2|/devices')).toBe('other');
    expect(b.peek('org1|/devices')).toBe('list');

    await a.invalidateTags('devices:org1');
    expect(a.peek('org1|/devices')).toBeUndefined();
    expect(await raw.exists(`cache:${ns}:v:org1|/devices`)).toBe(0);
    await until(() => b.peek('org1|/devices') === undefined);
    expect(b.peek('org2|/devices')).toBe('other');
    expect(await a.get('org1|/devices/7')).toBe('one');

    expect(await b.get('org1|/devices/7')).toBe('one');
    const removed = await a.invalidatePattern('org1|*');
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(await raw.exists(`cache:${ns}:v:org1|/devices/7`)).toBe(0);
    await until(() => b.peek('org1|/devices/7') === undefined);
    expect(await b.get('org2|/devices')).toBe('other');
  });

  it('bounds L1 by entries and bytes, evicting the least recently used', async () => {
    const cache = new TwoLevelCache({
      namespace: `lru-${randomUUID()}`,
      l1: { maxEntries: 3, maxBytes: 1_000_000 },
    });
    for (const k of ['a', 'b', 'c']) await cache.set(k, k);
    expect(cache.peek('a')).toBe('a'); // a is now the most recent
    await cache.set('d', 'd');
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('a')).toBe('a');
    expect(cache.stats().l1.evictions).toBe(1);

    const bytes = new TwoLevelCache({
      namespace: `bytes-${randomUUID()}`,
      l1: { maxEntries: 1000, maxBytes: 3_000 },
    });
    for (let i = 0; i < 10; i++) await bytes.set(`k${i}`, 'x'.repeat(1000));
    expect(bytes.stats().l1.items).toBeLessThanOrEqual(2);
    expect(bytes.stats().l1.bytes).toBeLessThanOrEqual(3_000);
    expect(bytes.stats().l1.evictions).toBeGreaterThanOrEqual(8);
  });

  it('expires entries after their TTL, with jitter within bounds', async () => {
    const cache = new TwoLevelCache({ namespace: `ttl-${randomUUID()}`, jitter: 0.5 });
    await cache.set('k', 1, { ttlMs: 100 });
    expect(cache.peek('k')).toBe(1);
    await sleep(160); // TTL + at most 50 % jitter
    expect(cache.peek('k')).toBeUndefined();
    await cache.set('j', 1, { ttlMs: 200 });
    await sleep(190);
    expect(cache.peek('j')).toBe(1); // jitter only adds
  });

  it('serves stale values within grace when the loader fails, and after a soft timeout', async () => {
    const cache = new TwoLevelCache({ namespace: `grace-${randomUUID()}`, jitter: 0 });
    await cache.getOrSet('k', async () => 'v1', { ttlMs: 50, graceMs: 500 });
    await sleep(80);
    const stale = await cache.getOrSet(
      'k',
      async () => {
        throw new Error('backend down');
      },
      { ttlMs: 50, graceMs: 500 },
    );
    expect(stale).toBe('v1');
    await sleep(600);
    await expect(
      cache.getOrSet(
        'k',
        async () => {
          throw new Error('backend down');
        },
        { ttlMs: 50, graceMs: 500 },
      ),
    ).rejects.toThrow('backend down');

    await cache.getOrSet('s', async () => 'old', { ttlMs: 50, graceMs: 5_000 });
    await sleep(80);
    const started = Date.now();
    const fast = await cache.getOrSet(
      's',
      async () => {
        await sleep(300);
        return 'new';
      },
      { ttlMs: 5_000, graceMs: 5_000, softTimeoutMs: 30 },
    );
    expect(fast).toBe('old');
    expect(Date.now() - started).toBeLessThan(250);
    await until(() => cache.peek('s') === 'new', 2_000);
  });

  it('degrades to L1 and the loader while Redis is down, and uses L2 again when it is back', async () => {
    await using server = await startRedisServer();
    const redis = createCacheRedis(server.url);
    clients.push({ close: () => redis.disconnect() });
    await until(() => redis.status === 'ready');
    const cache = new TwoLevelCache({ namespace: `down-${randomUUID()}`, redis, redisTimeoutMs: 50 });
    await cache.set('before', 'kept');
    expect(cache.stats().l2.sets).toBe(1);

    await server.stop();
    await until(() => redis.status !== 'ready');
    expect(cache.stats().l2.connected).toBe(false);
    expect(cache.peek('before')).toBe('kept');
    let calls = 0;
    const value = await cache.getOrSet('during', async () => {
      calls++;
      return 'loaded';
    });
    expect(value).toBe('loaded');
    expect(calls).toBe(1);
    await expect(cache.invalidateTags('t')).resolves.toBe(0);
    await expect(cache.invalidatePattern('*')).resolves.toBeGreaterThanOrEqual(1);

    await server.start();
    await until(() => redis.status === 'ready', 5_000);
    await cache.set('after', 'stored');
    const check = new Redis(server.url);
    expect(await check.exists(`cache:${cache.namespace}:v:after`)).toBe(1);
    check.disconnect();
    expect(cache.stats().l2.connected).toBe(true);
  });

  it('exports per-layer metrics for several caches on one registry', async () => {
    const registry = new Registry();
    const a = new TwoLevelCache({ namespace: 'm-a', registry });
    const b = new TwoLevelCache({ namespace: 'm-b', registry });
    await a.set('k', 1);
    a.peek('k');
    await b.getOrSet('x', async () => 2);
    const text = await registry.metrics();
    expect(text).toMatch(/conduit_cache_requests_total\{namespace="m-a",layer="l1",result="hit"\} 1/);
    expect(text).toMatch(/conduit_cache_requests_total\{namespace="m-b",layer="l1",result="miss"\} 1/);
    expect(text).toMatch(/conduit_cache_items\{namespace="m-b"\} 1/);
  });
});
