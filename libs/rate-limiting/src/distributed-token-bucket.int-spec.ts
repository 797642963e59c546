import { randomUUID } from 'node:crypto';
import { createCacheRedis } from '@conduit/caching';
import { startRedisServer } from '@conduit/caching/testing';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { DistributedTokenBucket } from './distributed-token-bucket.js';
import type { Bucket } from './token-bucket.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const until = async (probe: () => boolean, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('DistributedTokenBucket (real Redis)', () => {
  const clients: ReturnType<typeof createCacheRedis>[] = [];
  const limiter = async (url = REDIS_URL, replicas = 1) => {
    const redis = createCacheRedis(url, { commandTimeoutMs: 200 });
    clients.push(redis);
    await until(() => redis.status === 'ready');
    return new DistributedTokenBucket({
      redis,
      replicas: () => replicas,
      probeIntervalMs: 100,
      registry: new Registry(),
    });
  };
  afterAll(() => clients.forEach((c) => c.disconnect()));

  it('lets exactly the burst through two replicas sharing the buckets, then answers with Retry-After', async () => {
    const a = await limiter();
    const b = await limiter();
    const buckets: Bucket[] = [{ key: `rl:t:${randomUUID()}`, limit: { rate: 0.01, burst: 7 } }];
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await (i % 2 ? a : b).consume(buckets));
    expect(results.filter((r) => r.allowed)).toHaveLength(7);
    expect(results.slice(0, 7).every((r) => r.allowed)).toBe(true);
    const denied = results[7];
    expect(denied?.allowed).toBe(false);
    expect(denied?.remaining).toBe(0);
    expect(denied?.limit).toBe(7);
    expect(denied?.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(results.every((r) => r.mode === 'redis')).toBe(true);
  });

  it('takes from the user and the org bucket together: the org bounds all its users', async () => {
    const a = await limiter();
    const org = { key: `rl:o:${randomUUID()}`, limit: { rate: 0.01, burst: 8 } };
    const u1 = { key: `rl:u:${randomUUID()}`, limit: { rate: 0.01, burst: 5 } };
    const u2 = { key: `rl:u:${randomUUID()}`, limit: { rate: 0.01, burst: 5 } };
    let first = 0;
    let second = 0;
    for (let i = 0; i < 10; i++) if ((await a.consume([u1, org])).allowed) first++;
    for (let i = 0; i < 10; i++) if ((await a.consume([u2, org])).allowed) second++;
    expect(first).toBe(5);
    expect(second).toBe(3);
  });

  it('refills at the sustained rate after the burst', async () => {
    const a = await limiter();
    const buckets = [{ key: `rl:t:${randomUUID()}`, limit: { rate: 50, burst: 5 } }];
    const started = Date.now();
    let allowed = 0;
    while (Date.now() - started < 1_000) {
      if ((await a.consume(buckets)).allowed) allowed++;
      await new Promise((r) => setTimeout(r, 2));
    }
    const elapsedS = (Date.now() - started) / 1000;
    // burst + rate × time, give or take the one token being refilled.
    expect(allowed).toBeGreaterThanOrEqual(Math.floor(5 + 50 * elapsedS * 0.9));
    expect(allowed).toBeLessThanOrEqual(Math.ceil(5 + 50 * elapsedS) + 1);
  });

  it('falls back to local buckets of limit/replicas while Redis is down, and switches back', async () => {
    await using server = await startRedisServer();
    const a = await limiter(server.url, 2);
    const buckets = [{ key: 'rl:u:down', limit: { rate: 0.01, burst: 10 } }];
    expect((await a.consume(buckets)).mode).toBe('redis');

    await server.stop();
    const during = [];
    for (let i = 0; i < 8; i++) during.push(await a.consume(buckets));
    expect(during.every((d) => d.mode === 'local')).toBe(true);
    // Two live replicas: this one's share is 10 / 2 = 5.
    expect(during.filter((d) => d.allowed)).toHaveLength(5);
    expect(during[7]?.limit).toBe(5);
    expect(a.status().mode).toBe('local');
    // The client notices the closed socket on its own schedule (a loaded machine: some ms later).
    await until(() => !a.status().redisConnected, 5_000);
    expect(a.status().redisConnected).toBe(false);

    await server.start();
    await until(() => a.status().mode === 'redis', 10_000);
    const after = await a.consume(buckets);
    expect(after.mode).toBe('redis');
    expect(after.allowed).toBe(true); // a fresh Redis: a full bucket
  });
});
