import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Breaker, type BreakerStateChange } from './breaker.js';
import type { BreakerOptions } from './breaker.config.js';
import { BreakerOpenError, BreakerTimeoutError } from './breaker.error.js';
import { BreakerRegistry } from './breaker-registry.js';

type Mode = 'ok' | 'fail' | 'hang' | 'slow';

/** A real HTTP dependency on 127.0.0.1 that answers 200, answers 500, never answers, or answers 200 late. */
interface Dependency extends AsyncDisposable {
  readonly url: string;
  mode: Mode;
  /** Requests received. */
  readonly requests: number;
  /** Requests the client gave up on before an answer was sent. */
  readonly abandoned: number;
}

async function startDependency(slowMs = 150): Promise<Dependency> {
  let requests = 0;
  let abandoned = 0;
  let mode: Mode = 'ok';
  const server = createServer((req, res) => {
    requests++;
    res.on('close', () => {
      if (!res.writableEnded) abandoned++;
    });
    req.resume();
    const answer = (status: number) => {
      if (!res.destroyed)
        res.writeHead(status, { 'content-type': 'application/json' }).end(`{"status":${status}}`);
    };
    switch (mode) {
      case 'ok':
        return answer(200);
      case 'fail':
        return answer(500);
      case 'slow':
        setTimeout(() => answer(200), slowMs);
        return;
      case 'hang':
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/status`,
    get mode() {
      return mode;
    },
    set mode(next: Mode) {
      mode = next;
    },
    get requests() {
      return requests;
    },
    get abandoned() {
      return abandoned;
    },
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What an app's client does under the breaker: fetch with the breaker's signal, 5xx is a failure. */
const getStatus =
  (url: string) =>
  async (signal: AbortSignal): Promise<{ status: number }> => {
    const res = await fetch(url, { signal });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await res.json()) as { status: number };
  };

async function until(probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const defaults: BreakerOptions = {
  timeoutMs: 300,
  errorThresholdPercentage: 50,
  volumeThreshold: 4,
  resetTimeoutMs: 250,
  rollingCountTimeoutMs: 10_000,
};

/** Switches the dependency to 500s and calls until the breaker opens; returns the failed calls. */
async function tripOn(sut: Breaker, dependency: Dependency): Promise<number> {
  dependency.mode = 'fail';
  let failed = 0;
  while (sut.state === 'closed') {
    await expect(sut.fire(getStatus(dependency.url))).rejects.toThrow('HTTP 500');
    if (++failed > 2 * sut.options.volumeThreshold) throw new Error('the breaker did not open');
  }
  expect(sut.state).toBe('open');
  return failed;
}

describe(Breaker.name, () => {
  it('opens after the failures, refuses fast without reaching the server, and closes when a trial succeeds', async () => {
    await using dependency = await startDependency();
    const changes: BreakerStateChange[] = [];
    using registry = new BreakerRegistry({
      defaults,
      registry: new Registry(),
      onStateChange: (e) => changes.push(e),
    });
    const sut = registry.get('status-api');
    await expect(sut.fire(getStatus(dependency.url))).resolves.toEqual({ status: 200 });

    expect(await tripOn(sut, dependency)).toBe(3); // 3 of 4 calls failed: 75 % > 50 %
    const reached = dependency.requests;
    const durations: number[] = [];
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      const error = await sut.fire(getStatus(dependency.url)).catch((e: unknown) => e);
      durations.push(performance.now() - started);
      expect(error).toBeInstanceOf(BreakerOpenError);
    }
    durations.sort((a, b) => a - b);
    expect(dependency.requests).toBe(reached);
    expect(durations[15]).toBeLessThan(1);
    expect(durations[27]).toBeLessThan(5);

    dependency.mode = 'ok';
    await until(() => sut.state === 'half_open');
    await expect(sut.fire(getStatus(dependency.url))).resolves.toEqual({ status: 200 });

    expect(sut.state).toBe('closed');
    expect(dependency.requests).toBe(reached + 1);
    expect(changes.map((e) => `${e.from}->${e.to}`)).toEqual([
      'closed->open',
      'open->half_open',
      'half_open->closed',
    ]);
    expect(sut.stats().counts).toEqual({ successes: 2, failures: 3, timeouts: 0, rejects: 30, fallbacks: 0 });
  });

  it('aborts a hanging request at timeoutMs: the server sees it dropped, and time-outs open the breaker', async () => {
    await using dependency = await startDependency();
    using registry = new BreakerRegistry({
      defaults: { ...defaults, timeoutMs: 100, volumeThreshold: 2 },
      registry: new Registry(),
    });
    const sut = registry.get('hanging-api');
    dependency.mode = 'hang';

    const started = performance.now();
    const first = await sut.fire(getStatus(dependency.url)).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    await expect(sut.fire(getStatus(dependency.url))).rejects.toBeInstanceOf(BreakerTimeoutError);

    expect(first).toBeInstanceOf(BreakerTimeoutError);
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(1_000);
    await until(() => dependency.abandoned === 2);
    expect(sut.state).toBe('open');
    expect(sut.stats().counts).toMatchObject({ timeouts: 2, failures: 0 });
  });

  it('lets halfOpenMaxCalls trials reach the server and refuses the rest at once', async () => {
    await using dependency = await startDependency(150);
    using registry = new BreakerRegistry({
      defaults: { ...defaults, halfOpenMaxCalls: 2 },
      registry: new Registry(),
    });
    const sut = registry.get('bounded-api');
    await tripOn(sut, dependency);
    dependency.mode = 'slow';
    await until(() => sut.state === 'half_open');
    const reached = dependency.requests;

    const settledAt: number[] = [];
    const started = performance.now();
    const calls = Array.from({ length: 6 }, () =>
      sut.fire(getStatus(dependency.url)).finally(() => settledAt.push(performance.now() - started)),
    );
    const results = await Promise.allSettled(calls);

    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(
      results.slice(2).every((r) => r.status === 'rejected' && r.reason instanceof BreakerOpenError),
    ).toBe(true);
    expect(dependency.requests).toBe(reached + 2);
    settledAt.sort((a, b) => a - b);
    expect(settledAt[3]).toBeLessThan(50); // the four refusals, long before the 150 ms trials
    expect(settledAt[4]).toBeGreaterThanOrEqual(140);
    expect(sut.state).toBe('closed');
  });

  it('re-opens on a failed trial and closes once the dependency is healthy', async () => {
    await using dependency = await startDependency();
    using registry = new BreakerRegistry({ defaults, registry: new Registry() });
    const sut = registry.get('flaky-api');
    await tripOn(sut, dependency);

    await until(() => sut.state === 'half_open');
    await expect(sut.fire(getStatus(dependency.url))).rejects.toThrow('HTTP 500');
    expect(sut.state).toBe('open');
    dependency.mode = 'ok';
    await expect(sut.fire(getStatus(dependency.url))).rejects.toBeInstanceOf(BreakerOpenError);
    await until(() => sut.state === 'half_open');
    await expect(sut.fire(getStatus(dependency.url))).resolves.toEqual({ status: 200 });

    expect(sut.state).toBe('closed');
  });

  it('serves the fallback while the dependency is down', async () => {
    await using dependency = await startDependency();
    using registry = new BreakerRegistry({ defaults, registry: new Registry() });
    const sut = registry.get('fallback-api');
    const lastKnown = { status: 0 };

    dependency.mode = 'fail';
    const viaFailure = await sut.fire(getStatus(dependency.url), { fallback: () => lastKnown });
    await tripOn(sut, dependency);
    const viaOpen = await sut.fire(getStatus(dependency.url), {
      fallback: (e) => ({ status: e instanceof BreakerOpenError ? -1 : 0 }),
    });

    expect(viaFailure).toBe(lastKnown);
    expect(viaOpen).toEqual({ status: -1 });
    expect(sut.stats().counts.fallbacks).toBe(2);
  });

  it('exposes the conduit_breaker_* series in the registry text, and drops them on remove', async () => {
    await using dependency = await startDependency();
    const metrics = new Registry();
    using registry = new BreakerRegistry({ defaults, registry: metrics });
    const sut = registry.get('metered-api');
    registry.get('other-api');
    await sut.fire(getStatus(dependency.url));
    expect(await tripOn(sut, dependency)).toBe(3);
    await sut.fire(getStatus(dependency.url)).catch(() => undefined);

    const text = await metrics.metrics();

    expect(text).toContain('# TYPE conduit_breaker_state gauge');
    expect(text).toContain('conduit_breaker_state{name="metered-api"} 2');
    expect(text).toContain('conduit_breaker_state{name="other-api"} 0');
    expect(text).toContain('conduit_breaker_calls_total{name="metered-api",outcome="success"} 1');
    expect(text).toContain('conduit_breaker_calls_total{name="metered-api",outcome="failure"} 3');
    expect(text).toContain('conduit_breaker_calls_total{name="metered-api",outcome="reject"} 1');
    expect(text).toContain('conduit_breaker_call_duration_seconds_count{name="metered-api"} 4');
    expect(text).toMatch(/conduit_breaker_call_duration_seconds_bucket\{le="0\.1",name="metered-api"\} \d/);
    expect(text.match(/^# TYPE conduit_breaker_/gm)).toHaveLength(3);

    expect(registry.remove('metered-api')).toBe(true);
    const after = await metrics.metrics();
    expect(after).not.toContain('metered-api');
    expect(after).toContain('conduit_breaker_state{name="other-api"} 0');
  });
});
