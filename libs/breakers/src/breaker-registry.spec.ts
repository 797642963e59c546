import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import type { BreakerStateChange } from './breaker.js';
import type { BreakerOptions } from './breaker.config.js';
import { BreakerOpenError } from './breaker.error.js';
import { BreakerRegistry } from './breaker-registry.js';

const defaults: BreakerOptions = {
  timeoutMs: 30,
  errorThresholdPercentage: 50,
  volumeThreshold: 2,
  resetTimeoutMs: 60_000,
  rollingCountTimeoutMs: 10_000,
};
const failing = () => Promise.reject(new Error('down'));
const hanging = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

/** `name{labels} value` lines of the exposition text, for one metric family. */
async function samples(registry: Registry, metric: string): Promise<string[]> {
  const text = await registry.metrics();
  return text.split('\n').filter((line) => line.startsWith(`${metric}{`) || line.startsWith(`${metric} `));
}

describe(BreakerRegistry.name, () => {
  it('creates a breaker once with the defaults and overrides, then hands out the same instance', () => {
    const logger = { log: vi.fn(), warn: vi.fn() };
    using sut = new BreakerRegistry({ defaults, registry: new Registry(), logger });

    const payments = sut.get('payments', { timeoutMs: 500, halfOpenMaxCalls: undefined });

    expect(payments.options).toMatchObject({ ...defaults, timeoutMs: 500, halfOpenMaxCalls: 1 });
    expect(sut.get('payments')).toBe(payments);
    expect(sut.get('payments', { timeoutMs: 500 })).toBe(payments);
    expect(logger.warn).not.toHaveBeenCalled();
    expect(sut.get('payments', { timeoutMs: 900 })).toBe(payments);
    expect(payments.options.timeoutMs).toBe(500);
    expect(logger.warn).toHaveBeenCalledWith(
      'circuit breaker "payments" exists with other options: overrides ignored',
    );
    expect(sut.get('geo').options.timeoutMs).toBe(30);
  });

  it('rejects invalid defaults at construction and invalid overrides at creation', () => {
    expect(() => new BreakerRegistry({ defaults: { ...defaults, volumeThreshold: -1 } })).toThrow(
      /volumeThreshold/,
    );
    using sut = new BreakerRegistry({ defaults, registry: new Registry() });

    expect(() => sut.get('x', { resetTimeoutMs: 0 })).toThrow(/"x".*resetTimeoutMs/);
    expect(sut.list()).toEqual([]);
  });

  it('lists snapshots of its breakers by name', async () => {
    using sut = new BreakerRegistry({ defaults, registry: new Registry() });
    const b = sut.get('b');
    sut.get('a');
    await b.fire(async () => 1);
    await b.fire(failing).catch(() => undefined);

    const list = sut.list();

    expect(list.map((s) => s.name)).toEqual(['a', 'b']);
    expect(list[1]).toMatchObject({
      name: 'b',
      state: 'closed',
      counts: { successes: 1, failures: 1, timeouts: 0, rejects: 0, fallbacks: 0 },
    });
    expect(Date.parse(list[1]?.last_state_change ?? '')).not.toBeNaN();
  });

  it('names the breakers that would refuse a call now, and not the removed ones', async () => {
    using sut = new BreakerRegistry({ defaults, registry: new Registry() });
    const down = sut.get('down');
    sut.get('up');
    const gone = sut.get('gone');
    expect(sut.refusing()).toEqual([]);
    for (const breaker of [down, gone]) {
      for (let i = 0; i < 2; i += 1) await breaker.fire(failing).catch(() => undefined);
    }
    expect(down.isCallPermitted()).toBe(false);
    sut.remove('gone');

    expect(sut.refusing()).toEqual(['down']);
  });

  it('passes every state change of every breaker to onStateChange', async () => {
    const changes: BreakerStateChange[] = [];
    using sut = new BreakerRegistry({
      defaults,
      registry: new Registry(),
      onStateChange: (e) => changes.push(e),
    });

    for (const name of ['a', 'b']) {
      for (let i = 0; i < 2; i++)
        await sut
          .get(name)
          .fire(failing)
          .catch(() => undefined);
    }

    expect(changes.map((e) => `${e.name}:${e.from}->${e.to}`)).toEqual(['a:closed->open', 'b:closed->open']);
  });

  it('registers the metrics once per registry and gives every breaker its series', async () => {
    const registry = new Registry();
    using sut = new BreakerRegistry({ defaults, registry });
    for (const name of ['a', 'b', 'c']) sut.get(name);
    using other = new BreakerRegistry({ defaults, registry });
    other.get('d');

    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();

    expect(names).toEqual([
      'conduit_breaker_call_duration_seconds',
      'conduit_breaker_calls_total',
      'conduit_breaker_state',
    ]);
    expect(await samples(registry, 'conduit_breaker_state')).toEqual([
      'conduit_breaker_state{name="a"} 0',
      'conduit_breaker_state{name="b"} 0',
      'conduit_breaker_state{name="c"} 0',
      'conduit_breaker_state{name="d"} 0',
    ]);
    expect(await samples(registry, 'conduit_breaker_calls_total')).toHaveLength(4 * 5);
  });

  it('counts every outcome, times the calls that ran and reports the state', async () => {
    const registry = new Registry();
    using sut = new BreakerRegistry({ defaults, registry });
    const breaker = sut.get('pay');

    await breaker.fire(async () => 'ok');
    await breaker.fire(failing).catch(() => undefined);
    await breaker.fire(hanging).catch(() => undefined); // timeout: 2 of 3 failed, opens
    await breaker.fire(async () => 'x').catch(() => undefined);
    await breaker.fire(async () => 'x', { fallback: () => 'cached' });

    expect(breaker.state).toBe('open');
    expect(await samples(registry, 'conduit_breaker_calls_total')).toEqual([
      'conduit_breaker_calls_total{name="pay",outcome="success"} 1',
      'conduit_breaker_calls_total{name="pay",outcome="failure"} 1',
      'conduit_breaker_calls_total{name="pay",outcome="timeout"} 1',
      'conduit_breaker_calls_total{name="pay",outcome="reject"} 2',
      'conduit_breaker_calls_total{name="pay",outcome="fallback"} 1',
    ]);
    expect(await samples(registry, 'conduit_breaker_state')).toEqual(['conduit_breaker_state{name="pay"} 2']);
    expect(await samples(registry, 'conduit_breaker_call_duration_seconds_count')).toEqual([
      'conduit_breaker_call_duration_seconds_count{name="pay"} 3',
    ]);
    const [sum] = await samples(registry, 'conduit_breaker_call_duration_seconds_sum');
    expect(Number(sum?.split(' ')[1])).toBeGreaterThanOrEqual(0.025);
  });

  it('removes a breaker: shuts it down, drops its series, and creates a new one on the next get', async () => {
    const registry = new Registry();
    using sut = new BreakerRegistry({ defaults, registry });
    const old = sut.get('gone');
    sut.get('kept');

    expect(sut.remove('gone')).toBe(true);
    expect(sut.remove('gone')).toBe(false);
    expect(sut.remove('never-was')).toBe(false);

    await expect(old.fire(async () => 1)).rejects.toBeInstanceOf(BreakerOpenError);
    expect(sut.list().map((s) => s.name)).toEqual(['kept']);
    const text = await registry.metrics();
    expect(text).not.toContain('name="gone"');
    expect(text).toContain('conduit_breaker_state{name="kept"} 0');
    const renewed = sut.get('gone');
    expect(renewed).not.toBe(old);
    expect(await samples(registry, 'conduit_breaker_state')).toContain(
      'conduit_breaker_state{name="gone"} 0',
    );
  });

  it('refuses a second live breaker of one name on one metrics registry', () => {
    const registry = new Registry();
    using a = new BreakerRegistry({ defaults, registry });
    using b = new BreakerRegistry({ defaults, registry });
    using elsewhere = new BreakerRegistry({ defaults, registry: new Registry() });
    a.get('shared');

    expect(() => b.get('shared')).toThrow(
      'a circuit breaker named "shared" already reports metrics to this registry',
    );
    expect(elsewhere.get('shared').name).toBe('shared');
    a.remove('shared');
    expect(b.get('shared').name).toBe('shared');
  });

  it('replaces a breaker that was shut down directly', () => {
    using sut = new BreakerRegistry({ defaults, registry: new Registry() });
    const first = sut.get('x');
    first.shutdown();

    const second = sut.get('x');

    expect(second).not.toBe(first);
    expect(second.isShutdown).toBe(false);
  });

  it('shuts every breaker down and stays usable', async () => {
    const registry = new Registry();
    using sut = new BreakerRegistry({ defaults, registry });
    const a = sut.get('a');
    sut.get('b');

    sut.shutdown();

    expect(a.isShutdown).toBe(true);
    expect(sut.list()).toEqual([]);
    expect(await samples(registry, 'conduit_breaker_state')).toEqual([]);
    expect(sut.get('a').isShutdown).toBe(false);
    sut.shutdown();
  });
});
