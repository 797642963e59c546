import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it, vi } from 'vitest';
import { Breaker, type BreakerStateChange } from './breaker.js';
import type { BreakerOptions } from './breaker.config.js';
import { BreakerOpenError, BreakerTimeoutError } from './breaker.error.js';

// Fast timings; the window is long so that nothing rolls out of it during a test.
const options = (overrides: Partial<BreakerOptions> = {}): BreakerOptions => ({
  timeoutMs: 200,
  errorThresholdPercentage: 50,
  volumeThreshold: 3,
  resetTimeoutMs: 50,
  rollingCountTimeoutMs: 10_000,
  rollingCountBuckets: 10,
  ...overrides,
});

const failing = () => Promise.reject(new Error('down'));
const hanging = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function until(probe: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function trip(sut: Breaker): Promise<void> {
  for (let i = 0; i < sut.options.volumeThreshold; i++) {
    await expect(sut.fire(failing)).rejects.toThrow('down');
  }
  expect(sut.state).toBe('open');
}

async function halfOpen(sut: Breaker): Promise<void> {
  await trip(sut);
  await until(() => sut.state === 'half_open');
}

const settledIn = async (promise: Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await promise.catch(() => undefined);
  return performance.now() - started;
};

describe(Breaker.name, () => {
  describe('time-out', () => {
    it('aborts the signal at timeoutMs with the BreakerTimeoutError it rejects with', async () => {
      using sut = new Breaker('t-abort', options({ timeoutMs: 40 }));
      let seen: AbortSignal | undefined;
      const started = performance.now();

      const error = await sut
        .fire((signal) => {
          seen = signal;
          return hanging(signal);
        })
        .catch((e: unknown) => e);

      const elapsed = performance.now() - started;
      expect(error).toBeInstanceOf(BreakerTimeoutError);
      expect(error).toMatchObject({ name: 'BreakerTimeoutError', breaker: 't-abort', timeoutMs: 40 });
      expect(seen?.aborted).toBe(true);
      expect(seen?.reason).toBe(error);
      expect(elapsed).toBeGreaterThanOrEqual(35);
      expect(elapsed).toBeLessThan(1_000);
      expect(sut.stats().counts).toEqual({
        successes: 0,
        failures: 0,
        timeouts: 1,
        rejects: 0,
        fallbacks: 0,
      });
    });

    it('leaves the signal of a call that settles in time alone', async () => {
      using sut = new Breaker('t-ok', options({ timeoutMs: 30 }));
      let seen: AbortSignal | undefined;

      await expect(
        sut.fire(async (signal) => {
          seen = signal;
          return 'fine';
        }),
      ).resolves.toBe('fine');

      await new Promise((r) => setTimeout(r, 60));
      expect(seen?.aborted).toBe(false);
      expect(sut.stats().counts.successes).toBe(1);
    });

    it('counts time-outs as failures: enough of them open the breaker', async () => {
      using sut = new Breaker('t-open', options({ timeoutMs: 20, volumeThreshold: 2 }));

      await expect(sut.fire(hanging)).rejects.toBeInstanceOf(BreakerTimeoutError);
      expect(sut.state).toBe('closed');
      await expect(sut.fire(hanging)).rejects.toBeInstanceOf(BreakerTimeoutError);

      expect(sut.state).toBe('open');
    });

    it('hands the time-out to the fallback and returns what it returns', async () => {
      using sut = new Breaker('t-fallback', options({ timeoutMs: 20 }));
      const fallback = vi.fn((error: Error) => `stale (${error.name})`);

      await expect(sut.fire(hanging, { fallback })).resolves.toBe('stale (BreakerTimeoutError)');

      expect(fallback).toHaveBeenCalledOnce();
      expect(sut.stats().counts).toMatchObject({ timeouts: 1, fallbacks: 1 });
    });
  });

  describe('closed', () => {
    it('returns what fn resolves to and rethrows what it rejects with', async () => {
      using sut = new Breaker('c-pass', options());
      const error = new Error('own error');

      await expect(sut.fire(async () => ({ id: 7 }))).resolves.toEqual({ id: 7 });
      await expect(sut.fire(() => Promise.reject(error))).rejects.toBe(error);

      expect(sut.stats().counts).toMatchObject({ successes: 1, failures: 1 });
    });

    it('counts a synchronous throw and a non-Error rejection as failures', async () => {
      using sut = new Breaker('c-odd', options({ volumeThreshold: 10 }));

      await expect(
        sut.fire(() => {
          throw new Error('sync');
        }),
      ).rejects.toThrow('sync');
      await expect(sut.fire(() => Promise.reject('a string'))).rejects.toBe('a string');
      await expect(sut.fire(() => Promise.reject(null), { fallback: (e) => e.message })).resolves.toBe(
        'null',
      );

      expect(sut.stats().counts).toMatchObject({ failures: 3, fallbacks: 1 });
    });

    it('stays closed below volumeThreshold however many calls fail', async () => {
      using sut = new Breaker('c-volume', options({ volumeThreshold: 5 }));

      for (let i = 0; i < 4; i++) await expect(sut.fire(failing)).rejects.toThrow('down');
      expect(sut.state).toBe('closed');
      await expect(sut.fire(failing)).rejects.toThrow('down');

      expect(sut.state).toBe('open');
    });

    it('opens only when the error rate exceeds errorThresholdPercentage (50 % does not)', async () => {
      using sut = new Breaker('c-rate', options({ volumeThreshold: 2, errorThresholdPercentage: 50 }));

      for (let i = 0; i < 3; i++) {
        await sut.fire(async () => 'ok');
        await expect(sut.fire(failing)).rejects.toThrow('down');
        expect(sut.state).toBe('closed');
      }
      await expect(sut.fire(failing)).rejects.toThrow('down'); // 4 of 7

      expect(sut.state).toBe('open');
    });
  });

  describe('open', () => {
    it('refuses at once without calling fn, well under 5 ms', async () => {
      using sut = new Breaker('o-fast', options({ resetTimeoutMs: 60_000 }));
      await trip(sut);
      const fn = vi.fn(async () => 'never');

      const error = await sut.fire(fn).catch((e: unknown) => e);
      const durations: number[] = [];
      for (let i = 0; i < 50; i++) durations.push(await settledIn(sut.fire(fn)));
      durations.sort((a, b) => a - b);

      expect(error).toBeInstanceOf(BreakerOpenError);
      expect(error).toMatchObject({ name: 'BreakerOpenError', breaker: 'o-fast' });
      expect(fn).not.toHaveBeenCalled();
      expect(sut.isCallPermitted()).toBe(false);
      expect(durations[25]).toBeLessThan(1);
      expect(durations[45]).toBeLessThan(5);
      expect(sut.stats().counts.rejects).toBe(51);
    });

    it('hands the BreakerOpenError to the fallback', async () => {
      using sut = new Breaker('o-fallback', options({ resetTimeoutMs: 60_000 }));
      await trip(sut);
      let received: Error | undefined;

      const value = await sut.fire(async () => 'live', {
        fallback: (error) => {
          received = error;
          return 'cached';
        },
      });

      expect(value).toBe('cached');
      expect(received).toBeInstanceOf(BreakerOpenError);
      expect(sut.stats().counts).toMatchObject({ rejects: 1, fallbacks: 1 });
    });

    it('rejects with what a failing fallback throws', async () => {
      using sut = new Breaker('o-fallback-fails', options({ resetTimeoutMs: 60_000 }));
      await trip(sut);

      await expect(
        sut.fire(async () => 'live', {
          fallback: () => Promise.reject(new Error('no cache either')),
        }),
      ).rejects.toThrow('no cache either');
    });
  });

  describe('half-open', () => {
    it('turns half-open after resetTimeoutMs; a successful trial closes the breaker', async () => {
      using sut = new Breaker('h-close', options({ resetTimeoutMs: 80 }));
      await trip(sut);
      const openedAt = Date.now();

      await until(() => sut.state === 'half_open');
      expect(Date.now() - openedAt).toBeGreaterThanOrEqual(70);
      expect(sut.isCallPermitted()).toBe(true);
      await expect(sut.fire(async () => 'back')).resolves.toBe('back');

      expect(sut.state).toBe('closed');
      expect(sut.isCallPermitted()).toBe(true);
    });

    it('re-opens on a failed trial, and turns half-open again after resetTimeoutMs', async () => {
      using sut = new Breaker('h-reopen', options());
      await halfOpen(sut);

      await expect(sut.fire(failing)).rejects.toThrow('down');
      expect(sut.state).toBe('open');
      await expect(sut.fire(async () => 'x')).rejects.toBeInstanceOf(BreakerOpenError);

      await until(() => sut.state === 'half_open');
      await sut.fire(async () => 'x');
      expect(sut.state).toBe('closed');
    });

    it('re-opens when a trial times out, aborting its signal', async () => {
      using sut = new Breaker('h-timeout', options({ timeoutMs: 30, resetTimeoutMs: 100 }));
      await halfOpen(sut);
      let seen: AbortSignal | undefined;

      const error = await sut
        .fire((signal) => {
          seen = signal;
          return hanging(signal);
        })
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(BreakerTimeoutError);
      expect(seen?.reason).toBe(error);
      expect(sut.state).toBe('open');
      expect(sut.stats().counts.timeouts).toBe(1);
    });

    it('runs one trial at a time by default and refuses the others at once', async () => {
      using sut = new Breaker('h-one', options());
      await halfOpen(sut);
      const trial = deferred<string>();
      const fn = vi.fn(() => trial.promise);

      const first = sut.fire(fn);
      expect(sut.isCallPermitted()).toBe(false);
      const refusedIn = await settledIn(sut.fire(fn));
      await expect(sut.fire(fn)).rejects.toBeInstanceOf(BreakerOpenError);
      trial.resolve('ok');

      await expect(first).resolves.toBe('ok');
      expect(fn).toHaveBeenCalledOnce();
      expect(refusedIn).toBeLessThan(5);
      expect(sut.state).toBe('closed');
    });

    it('runs up to halfOpenMaxCalls trials concurrently; the first success closes it', async () => {
      using sut = new Breaker('h-bounded', options({ halfOpenMaxCalls: 3 }));
      await halfOpen(sut);
      const trials = [deferred<number>(), deferred<number>(), deferred<number>()];
      let started = 0;
      const fn = vi.fn(() => trials[started++]?.promise ?? Promise.resolve(-1));

      const running = [sut.fire(fn), sut.fire(fn), sut.fire(fn)];
      const refused = await Promise.allSettled([sut.fire(fn), sut.fire(fn)]);
      expect(fn).toHaveBeenCalledTimes(3);
      expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(refused[0]?.status === 'rejected' && refused[0].reason).toBeInstanceOf(BreakerOpenError);
      expect(sut.isCallPermitted()).toBe(false);

      trials[1]?.resolve(1);
      await expect(running[1]).resolves.toBe(1);
      expect(sut.state).toBe('closed');
      trials[0]?.reject(new Error('late failure'));
      trials[2]?.resolve(2);
      await expect(running[0]).rejects.toThrow('late failure');
      await expect(running[2]).resolves.toBe(2);

      // A straggling trial's failure after closing is an ordinary closed-state failure.
      expect(sut.state).toBe('closed');
      expect(sut.stats().counts).toMatchObject({ successes: 2, rejects: 2 });
    });

    it('frees a trial slot when a trial settles', async () => {
      using sut = new Breaker('h-slot', options({ halfOpenMaxCalls: 2 }));
      await halfOpen(sut);
      const a = deferred<string>();
      const b = deferred<string>();
      const running = [sut.fire(() => a.promise), sut.fire(() => b.promise)];
      expect(sut.isCallPermitted()).toBe(false);

      // A failure re-opens it; the other trial still holds its slot until it settles.
      a.reject(new Error('still down'));
      await expect(running[0]).rejects.toThrow('still down');
      expect(sut.state).toBe('open');
      b.resolve('late');
      await expect(running[1]).resolves.toBe('late');

      // The late success of a trial of the earlier period did not close it.
      expect(sut.state).toBe('open');
      await until(() => sut.state === 'half_open');
      expect(sut.isCallPermitted()).toBe(true);
    });

    it('gives a new half-open period all its slots, and ignores trials of the earlier one', async () => {
      using sut = new Breaker('h-generation', options({ halfOpenMaxCalls: 2, timeoutMs: 5_000 }));
      await halfOpen(sut);
      const stale = deferred<string>();
      const staleCall = sut.fire(() => stale.promise);
      await expect(sut.fire(failing)).rejects.toThrow('down');
      expect(sut.state).toBe('open');

      await until(() => sut.state === 'half_open');
      const fresh = [deferred<string>(), deferred<string>()];
      const freshCalls = fresh.map((d) => sut.fire(() => d.promise));
      expect(sut.isCallPermitted()).toBe(false);
      stale.resolve('stale');
      await expect(staleCall).resolves.toBe('stale');
      expect(sut.state).toBe('half_open');
      expect(sut.isCallPermitted()).toBe(false);

      fresh[0]?.resolve('fresh');
      fresh[1]?.resolve('fresh');
      await expect(Promise.all(freshCalls)).resolves.toEqual(['fresh', 'fresh']);
      expect(sut.state).toBe('closed');
    });

    it('closes with a fresh window: one failure right after closing does not re-open it', async () => {
      using sut = new Breaker('h-fresh', options({ volumeThreshold: 2 }));
      await halfOpen(sut);
      await sut.fire(async () => 'back');
      expect(sut.state).toBe('closed');

      await expect(sut.fire(failing)).rejects.toThrow('down');
      expect(sut.state).toBe('closed');
      await expect(sut.fire(failing)).rejects.toThrow('down');

      expect(sut.state).toBe('open');
    });
  });

  describe('state changes', () => {
    it('tells listeners and the context every change, logs it, and unsubscribes', async () => {
      const logger = { log: vi.fn(), warn: vi.fn() };
      const fromContext: BreakerStateChange[] = [];
      using sut = new Breaker('s-events', options(), { logger, onStateChange: (e) => fromContext.push(e) });
      const seen: BreakerStateChange[] = [];
      const unsubscribe = sut.onStateChange((e) => seen.push(e));
      const before = sut.stats().last_state_change;

      await halfOpen(sut);
      await sut.fire(async () => 'ok');
      unsubscribe();
      await trip(sut);

      expect(seen.map((e) => [e.from, e.to])).toEqual([
        ['closed', 'open'],
        ['open', 'half_open'],
        ['half_open', 'closed'],
      ]);
      expect(seen.every((e) => e.name === 's-events' && e.at instanceof Date)).toBe(true);
      expect(fromContext.map((e) => e.to)).toEqual(['open', 'half_open', 'closed', 'open']);
      expect(logger.warn.mock.calls).toEqual([
        ['circuit breaker "s-events" closed -> open'],
        ['circuit breaker "s-events" closed -> open'],
      ]);
      expect(logger.log.mock.calls).toEqual([
        ['circuit breaker "s-events" open -> half_open'],
        ['circuit breaker "s-events" half_open -> closed'],
      ]);
      expect(sut.stats().last_state_change).not.toBe(before);
      expect(sut.stats().last_state_change).toBe(fromContext.at(-1)?.at.toISOString());
    });

    it('keeps a throwing or rejecting listener from holding up the call that changed the state', async () => {
      const logger = { log: vi.fn(), warn: vi.fn() };
      using sut = new Breaker('s-bad-listener', options({ volumeThreshold: 1 }), { logger });
      sut.onStateChange(() => {
        throw new Error('listener bug');
      });
      sut.onStateChange(async () => {
        throw new Error('publish failed');
      });
      const seen: string[] = [];
      sut.onStateChange((e) => seen.push(e.to));

      await expect(sut.fire(failing)).rejects.toThrow('down');
      await new Promise((r) => setTimeout(r, 0));

      expect(sut.state).toBe('open');
      expect(seen).toEqual(['open']);
      const warnings = logger.warn.mock.calls.map(([m]) => String(m));
      expect(warnings).toContain(
        'circuit breaker "s-bad-listener": state-change listener failed: listener bug',
      );
      expect(warnings).toContain(
        'circuit breaker "s-bad-listener": state-change listener failed: publish failed',
      );
    });

    it('adds a breaker.state_change event to the active span', async () => {
      const exporter = new InMemorySpanExporter();
      const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
      trace.setGlobalTracerProvider(provider);
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      try {
        using sut = new Breaker('s-span', options({ volumeThreshold: 1, resetTimeoutMs: 60_000 }));

        await trace.getTracer('test').startActiveSpan('caller', async (span) => {
          await expect(sut.fire(failing)).rejects.toThrow('down');
          span.end();
        });

        const [span] = exporter.getFinishedSpans();
        expect(span?.name).toBe('caller');
        expect(span?.events.map((e) => [e.name, e.attributes])).toEqual([
          [
            'breaker.state_change',
            { 'breaker.name': 's-span', 'breaker.from': 'closed', 'breaker.to': 'open' },
          ],
        ]);
      } finally {
        await provider.shutdown();
        trace.disable();
        context.disable();
      }
    });
  });

  describe('lifecycle', () => {
    it('refuses every call once shut down, and reports open', async () => {
      using sut = new Breaker('l-shutdown', options());
      const fn = vi.fn(async () => 'x');
      sut.shutdown();
      sut.shutdown();

      await expect(sut.fire(fn)).rejects.toThrow('circuit breaker "l-shutdown" has been shut down');
      expect(fn).not.toHaveBeenCalled();
      expect(sut.state).toBe('open');
      expect(sut.isShutdown).toBe(true);
      expect(sut.isCallPermitted()).toBe(false);
    });

    it('rejects an empty name and invalid options, naming each bad option', () => {
      expect(() => new Breaker(' ', options())).toThrow(RangeError);
      expect(() => new Breaker('bad', options({ timeoutMs: 0, errorThresholdPercentage: 120 }))).toThrow(
        /"bad".*timeoutMs.*errorThresholdPercentage/,
      );
      expect(
        () => new Breaker('bad', options({ rollingCountTimeoutMs: 5, rollingCountBuckets: 10 })),
      ).toThrow(/rollingCountBuckets/);
      expect(() => new Breaker('bad', options({ halfOpenMaxCalls: 0 }))).toThrow(/halfOpenMaxCalls/);
    });

    it('reports its options with the defaults applied', () => {
      const { rollingCountBuckets: _, ...withoutBuckets } = options();
      using sut = new Breaker('l-defaults', withoutBuckets);

      expect(sut.stats()).toMatchObject({
        name: 'l-defaults',
        state: 'closed',
        options: { ...withoutBuckets, rollingCountBuckets: 10, halfOpenMaxCalls: 1 },
        counts: { successes: 0, failures: 0, timeouts: 0, rejects: 0, fallbacks: 0 },
      });
    });
  });
});
