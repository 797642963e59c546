import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startRedisServer, type TestRedisServer } from '@conduit/caching/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestStack } from './support/stack.js';

const G1 = 'gateway';
const G2 = 'gateway#2';
const TIERS = JSON.stringify({
  internal: { user: { rate: 1_000_000, burst: 2_000_000 }, org: { rate: 1_000_000, burst: 2_000_000 } },
  // Refills so slowly that a test sees the burst only.
  tiny: { user: { rate: 0.001, burst: 5 }, org: { rate: 0.001, burst: 8 } },
});

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

const until = async (probe: () => Promise<boolean>, timeoutMs = 10_000, stepMs = 50): Promise<number> => {
  const started = Date.now();
  while (!(await probe())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return Date.now() - started;
};

describe('gateway edge: keys, rate limits, response cache, performance endpoints', () => {
  let stack: TestStack;
  let redis: TestRedisServer;
  let nats: NatsConnection;

  const call = async (
    replica: string,
    path: string,
    key: string | undefined,
    init: RequestInit = {},
  ): Promise<Answer> => {
    const res = await fetch(`${stack.url(replica)}${path}`, {
      ...init,
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(init.headers ?? {}),
      },
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };
  const admin = (path: string, init: RequestInit = {}) => call(G1, path, stack.adminKey, init);
  const post = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) });

  beforeAll(async () => {
    redis = await startRedisServer();
    stack = await TestStack.start({
      services: ['device-control', 'gateway'],
      env: { REDIS_URL: redis.url, RATE_LIMIT_TIERS: TIERS },
    });
    await stack.startService('gateway', {}, G2);
    nats = await connect({ servers: stack.natsUrl });
  });

  afterAll(async () => {
    await nats?.close();
    await stack?.[Symbol.asyncDispose]();
    await redis?.stop();
  });

  describe('identity', () => {
    it('answers 401 JSON for a missing or unknown key', async () => {
      const missing = await call(G1, '/api/v1/devices', undefined);
      expect(missing.status).toBe(401);
      expect(missing.body).toMatchObject({ error: { code: 'unauthorized' } });
      const unknown = await call(G1, '/api/v1/devices', 'cdt_not-a-real-key');
      expect(unknown.status).toBe(401);
      const viaHeader = await call(G1, '/api/v1/devices', undefined, {
        headers: { 'x-api-key': stack.adminKey },
      });
      expect(viaHeader.status).toBe(200);
    });

    it('answers 403 when the role may not do it, and confines org admins to their org', async () => {
      const org = `id-${randomUUID().slice(0, 8)}`;
      const viewer = await stack.keyFor(org, 'viewer');
      const orgAdmin = await stack.keyFor(org, 'admin');
      expect((await call(G1, '/api/v1/devices', viewer)).status).toBe(200);
      const write = await call(G1, '/api/v1/devices', viewer, post({ name: 'x', type: 't' }));
      expect(write.status).toBe(403);
      expect(write.body).toMatchObject({ error: { code: 'forbidden' } });
      expect((await call(G1, `/api/v1/admin/orgs/${org}/keys`, viewer)).status).toBe(403);
      expect((await call(G1, `/api/v1/admin/orgs/${org}/keys`, orgAdmin)).status).toBe(200);
      expect((await call(G1, '/api/v1/admin/orgs/dev-org/keys', orgAdmin)).status).toBe(403);
      expect((await call(G1, '/api/v1/admin/orgs', orgAdmin, post({ id: 'nope', name: 'n' }))).status).toBe(
        403,
      );
    });

    it('shows a key once, lists it without the secret, and a revoked key stops working on every replica within a second', async () => {
      const org = `rev-${randomUUID().slice(0, 8)}`;
      await stack.keyFor(org, 'admin');
      const user = await admin(`/api/v1/admin/orgs/${org}/users`, post({ email: 'ops@example.com' }));
      expect(user.status).toBe(201);
      const created = await admin(
        `/api/v1/admin/orgs/${org}/keys`,
        post({ user_id: user.body['id'], role: 'operator' }),
      );
      expect(created.status).toBe(201);
      const key = created.body['key'] as string;
      expect(key).toMatch(/^cdt_/);
      const listed = await admin(`/api/v1/admin/orgs/${org}/keys`);
      const entry = (listed.body['data'] as Record<string, unknown>[]).find(
        (k) => k['id'] === created.body['id'],
      );
      expect(entry).toBeDefined();
      expect(JSON.stringify(listed.body)).not.toContain(key);

      // Cached on both replicas.
      expect((await call(G1, '/api/v1/devices', key)).status).toBe(200);
      expect((await call(G2, '/api/v1/devices', key)).status).toBe(200);
      const revoked = await admin(`/api/v1/admin/orgs/${org}/keys/${created.body['id'] as string}`, {
        method: 'DELETE',
      });
      expect(revoked.status).toBe(204);
      const took = await until(
        async () => (await call(G2, '/api/v1/devices', key)).status === 401,
        1_000,
        20,
      );
      expect(took).toBeLessThan(1_000);
      expect((await call(G1, '/api/v1/devices', key)).status).toBe(401);
    });
  });

  describe('rate limits', () => {
    it('lets exactly the burst through per user and per org across two replicas, then 429 with Retry-After', async () => {
      const org = `rl-${randomUUID().slice(0, 8)}`;
      const first = await stack.keyFor(org, 'viewer', 'tiny');
      const second = await stack.keyFor(org, 'operator', 'tiny');
      const answers: Answer[] = [];
      for (let i = 0; i < 10; i++) answers.push(await call(i % 2 ? G2 : G1, '/api/v1/devices', first));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
      expect(answers[0]?.headers.get('ratelimit-limit')).toBe('5');
      expect(answers[0]?.headers.get('ratelimit-remaining')).toBe('4');
      expect(answers[0]?.headers.get('ratelimit-policy')).toContain('"user";q=5');
      expect(answers[0]?.headers.get('x-ratelimit-mode')).toBe('redis');
      const limited = answers[5] as Answer;
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limited.body).toMatchObject({ error: { code: 'rate_limited' } });
      // The org's burst is 8: the second user gets the 3 left.
      const more: number[] = [];
      for (let i = 0; i < 6; i++) more.push((await call(i % 2 ? G1 : G2, '/api/v1/devices', second)).status);
      expect(more).toEqual([200, 200, 200, 429, 429, 429]);
    });

    it('keeps answering under local limits while Redis is down, visibly, and switches back', async () => {
      const org = `rd-${randomUUID().slice(0, 8)}`;
      const key = await stack.keyFor(org, 'viewer', 'tiny');
      await redis.stop();
      try {
        const statuses: number[] = [];
        const modes = new Set<string | null>();
        for (let i = 0; i < 10; i++) {
          const a = await call(i % 2 ? G2 : G1, '/api/v1/devices', key);
          statuses.push(a.status);
          modes.add(a.headers.get('x-ratelimit-mode'));
        }
        expect(modes).toEqual(new Set(['local']));
        // Two live replicas, each with floor(5 / 2) = 2 of the user's burst: 4 in all, never more than 5.
        expect(statuses.filter((s) => s === 200)).toHaveLength(4);
        expect(statuses.filter((s) => s === 429)).toHaveLength(6);
        // Each replica's Redis client notices the closed socket on its own schedule.
        type Perf = Record<
          string,
          { replicas: { sections: Record<string, { redisConnected?: boolean }> }[] }
        >;
        let perf = await admin('/performance/health');
        await until(async () => {
          perf = await admin('/performance/health');
          const replicas = (perf.body['services'] as Perf)['gateway']?.replicas ?? [];
          return (
            replicas.length === 2 &&
            replicas.every((r) => r.sections['rate_limiter']?.redisConnected === false)
          );
        }, 5_000);
        const gateways = (
          perf.body['services'] as Record<string, { replicas: { sections: Record<string, unknown> }[] }>
        )['gateway'];
        expect(gateways?.replicas).toHaveLength(2);
        for (const r of gateways?.replicas ?? []) {
          expect(r.sections['rate_limiter']).toMatchObject({
            mode: 'local',
            redisConnected: false,
            liveReplicas: 2,
          });
        }
        const metrics = await (await fetch(`${stack.url(G1)}/metrics`)).text();
        expect(metrics).toMatch(/conduit_rate_limit_degraded\{[^}]*\} 1/);
      } finally {
        await redis.start();
      }
      await until(async () => (await admin('/api/v1/devices')).headers.get('x-ratelimit-mode') === 'redis');
      await until(
        async () =>
          (await call(G2, '/api/v1/devices', stack.adminKey)).headers.get('x-ratelimit-mode') === 'redis',
      );
    });
  });

  describe('response cache', () => {
    it('answers MISS then HIT, a write makes the next read a MISS with the new data, and orgs never share entries', async () => {
      const orgA = `ca-${randomUUID().slice(0, 8)}`;
      const orgB = `cb-${randomUUID().slice(0, 8)}`;
      const keyA = await stack.keyFor(orgA, 'operator');
      const keyB = await stack.keyFor(orgB, 'operator');
      const first = await call(G1, '/api/v1/devices?limit=10', keyA);
      expect(first.headers.get('x-cache')).toBe('MISS');
      const second = await call(G1, '/api/v1/devices?limit=10', keyA, {
        headers: { 'x-request-id': 'hit-1' },
      });
      expect(second.headers.get('x-cache')).toBe('HIT');
      expect(second.body).toEqual(first.body);
      // A hit (served before Nest's router) carries the same edge headers as any answer.
      expect(second.headers.get('x-request-id')).toBe('hit-1');
      expect(second.headers.get('ratelimit-limit')).not.toBeNull();
      expect(second.headers.get('x-ratelimit-mode')).toBe('redis');
      expect(second.headers.get('x-response-time')).toMatch(/ms$/);
      expect(second.headers.get('content-type')).toContain('application/json');
      const metrics = await (await fetch(`${stack.url(G1)}/metrics`)).text();
      expect(metrics).toMatch(/conduit_gateway_cache_fast_path_total\{result="hit"[^}]*\} [1-9]/);

      const created = await call(G1, '/api/v1/devices', keyA, post({ name: 'cached pump', type: 'pump' }));
      expect(created.status).toBe(201);
      const afterWrite = await call(G1, '/api/v1/devices?limit=10', keyA);
      expect(afterWrite.headers.get('x-cache')).toBe('MISS');
      expect((afterWrite.body['data'] as { id: string }[]).map((d) => d.id)).toContain(created.body['id']);
      // The other replica drops its copy too (L2 deleted, L1 over NATS).
      await until(async () => {
        const other = await call(G2, '/api/v1/devices?limit=10', keyA);
        return (other.body['data'] as { id: string }[]).some((d) => d.id === created.body['id']);
      }, 1_000);

      // Same URL, other org: its own (empty) answer, never org A's body.
      const b1 = await call(G1, '/api/v1/devices?limit=10', keyB);
      expect(b1.headers.get('x-cache')).toBe('MISS');
      expect(b1.body['data']).toEqual([]);
      const b2 = await call(G1, '/api/v1/devices?limit=10', keyB);
      expect(b2.headers.get('x-cache')).toBe('HIT');
      expect(b2.body['data']).toEqual([]);
      const foreign = await call(G1, `/api/v1/devices/${created.body['id'] as string}`, keyB);
      expect(foreign.status).toBe(404);

      const bypass = await call(G1, '/api/v1/devices?limit=10', keyA, {
        headers: { 'cache-control': 'no-cache' },
      });
      expect(bypass.headers.get('x-cache')).toBe('BYPASS');
    });

    it('drops entries on DEVICE events from elsewhere, and on admin invalidation', async () => {
      const org = `ev-${randomUUID().slice(0, 8)}`;
      const key = await stack.keyFor(org, 'admin');
      const device = await call(G1, '/api/v1/devices', key, post({ name: 'valve', type: 'valve' }));
      const id = device.body['id'] as string;
      await call(G1, `/api/v1/devices/${id}`, key);
      expect((await call(G1, `/api/v1/devices/${id}`, key)).headers.get('x-cache')).toBe('HIT');
      // As device-control publishes a status change (not through the gateway).
      nats.publish(`device.${org}.${id}.updated`, JSON.stringify({ type: 'device.updated' }));
      await until(
        async () => (await call(G1, `/api/v1/devices/${id}`, key)).headers.get('x-cache') === 'MISS',
        2_000,
      );

      expect((await call(G1, '/api/v1/devices?site=x', key)).headers.get('x-cache')).toBe('MISS');
      expect((await call(G1, '/api/v1/devices?site=x', key)).headers.get('x-cache')).toBe('HIT');

      // Reported state (with nearly every command) changes no cached record: the device stays a
      // HIT. The later `updated` of another device drops the org's lists, so the state event,
      // published before it on the same connection, has been seen by then.
      expect((await call(G1, `/api/v1/devices/${id}`, key)).headers.get('x-cache')).toBe('HIT');
      nats.publish(`device.${org}.${id}.state`, JSON.stringify({ type: 'device.state' }));
      nats.publish(`device.${org}.other-${id}.updated`, JSON.stringify({ type: 'device.updated' }));
      await until(
        async () => (await call(G1, '/api/v1/devices?site=x', key)).headers.get('x-cache') === 'MISS',
        2_000,
      );
      expect((await call(G1, `/api/v1/devices/${id}`, key)).headers.get('x-cache')).toBe('HIT');
      expect((await call(G1, '/api/v1/devices?site=x', key)).headers.get('x-cache')).toBe('HIT');

      const viewer = await stack.keyFor(org, 'viewer');
      expect((await call(G1, '/cache?pattern=/api/v1/devices*', viewer, { method: 'DELETE' })).status).toBe(
        403,
      );
      const dropped = await call(G1, '/cache?pattern=/api/v1/devices%3Fsite*', key, { method: 'DELETE' });
      expect(dropped.status).toBe(200);
      expect(dropped.body['invalidated']).toBeGreaterThanOrEqual(1);
      expect((await call(G1, '/api/v1/devices?site=x', key)).headers.get('x-cache')).toBe('MISS');

      const stats = await call(G1, '/cache/stats', key);
      const caches = stats.body['caches'] as { namespace: string; l1: { hits: number } }[];
      expect(caches.map((c) => c.namespace)).toEqual(['resp', 'auth']);
      expect(caches[0]?.l1.hits).toBeGreaterThan(0);
    });
  });

  describe('transport and performance endpoints', () => {
    it('compresses large answers when accepted and tells the time spent', async () => {
      const org = `gz-${randomUUID().slice(0, 8)}`;
      const key = await stack.keyFor(org, 'operator');
      for (let i = 0; i < 15; i++)
        await call(G1, '/api/v1/devices', key, post({ name: `meter ${i}`, type: 'meter' }));
      const res = await fetch(`${stack.url(G1)}/api/v1/devices?limit=50`, {
        headers: { authorization: `Bearer ${key}`, 'accept-encoding': 'gzip' },
        // undici would decompress transparently; read the raw bytes instead.
      });
      expect(res.headers.get('content-encoding')).toBe('gzip');
      expect(res.headers.get('x-response-time')).toMatch(/^\d+\.\d{2}ms$/);
      expect(res.headers.get('server-timing')).toMatch(/^app;dur=\d+\.\d{2}$/);
      const text = await res.text();
      expect(
        JSON.parse(text.startsWith('{') ? text : gunzipSync(Buffer.from(text, 'binary')).toString()),
      ).toHaveProperty('data');
      const small = await fetch(`${stack.url(G1)}/health`, { headers: { 'accept-encoding': 'gzip' } });
      expect(small.headers.get('content-encoding')).toBeNull();
    });

    it('refuses bodies over a route’s limit with 413 JSON', async () => {
      const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), type: 't' });
      const res = await call(G1, '/api/v1/devices', stack.adminKey, { method: 'POST', body: big });
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ error: { code: 'payload_too_large' } });
    });

    it('gathers every service over NATS within the deadline, reporting the silent ones', async () => {
      const res = await admin('/performance/health');
      expect(res.status).toBe(200);
      const body = res.body as {
        status: string;
        gathered_in_ms: number;
        services: Record<string, { status: string; replicas?: { sections: Record<string, unknown> }[] }>;
        pgbouncer: { pools?: unknown[] };
      };
      expect(body.status).toBe('degraded');
      expect(body.services['telemetry']).toEqual({ status: 'no_response' });
      expect(body.services['device-control']?.status).toBe('ok');
      expect(body.services['device-control']?.replicas?.[0]?.sections['database_pool']).toHaveProperty(
        'total',
      );
      expect(body.services['gateway']?.replicas).toHaveLength(2);
      expect(body.services['gateway']?.replicas?.[0]?.sections['caches']).toHaveLength(2);
      expect(body.gathered_in_ms).toBeLessThan(2_000);
      expect(Array.isArray(body.pgbouncer.pools)).toBe(true);

      const metrics = await admin('/performance/metrics');
      const routes = metrics.body['routes'] as { route: string; requests: number; p99_ms: number }[];
      const list = routes.find((r) => r.route === 'GET /api/v1/devices');
      expect(list?.requests).toBeGreaterThan(0);
      expect(list?.p99_ms).toBeGreaterThanOrEqual(0);
    });
  });
});
