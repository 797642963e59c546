import { describe, expect, it } from 'vitest';
import { ReadinessRegistry } from './readiness.registry.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe(ReadinessRegistry.name, () => {
  it('is ok with no checks registered', async () => {
    const sut = new ReadinessRegistry();

    expect(await sut.run()).toEqual({ status: 'ok', checks: {} });
  });

  it('reports every check, a failing one down with its message, including a synchronous throw', async () => {
    const sut = new ReadinessRegistry();
    sut.register('nats', async () => undefined);
    sut.register('postgres', async () => {
      throw new Error('ECONNREFUSED 127.0.0.1:6432');
    });
    sut.register('redis', () => {
      throw new Error('no client');
    });

    expect(await sut.run()).toEqual({
      status: 'error',
      checks: {
        nats: { status: 'up' },
        postgres: { status: 'down', message: 'ECONNREFUSED 127.0.0.1:6432' },
        redis: { status: 'down', message: 'no client' },
      },
    });
  });

  it('counts a check that outlasts its time-out as down', async () => {
    const sut = new ReadinessRegistry();
    sut.register('stuck', () => new Promise(() => undefined), { timeoutMs: 5 });

    expect((await sut.run()).checks['stuck']).toEqual({ status: 'down', message: 'no answer within 5 ms' });
  });

  it('runs the checks in parallel', async () => {
    const sut = new ReadinessRegistry();
    const aStarted = deferred();
    const bStarted = deferred();
    // Each waits for the other to have started: run one after the other, the first times out.
    sut.register(
      'a',
      async () => {
        aStarted.resolve();
        await bStarted.promise;
      },
      { timeoutMs: 1_000 },
    );
    sut.register(
      'b',
      async () => {
        bStarted.resolve();
        await aStarted.promise;
      },
      { timeoutMs: 1_000 },
    );

    expect(await sut.run()).toEqual({ status: 'ok', checks: { a: { status: 'up' }, b: { status: 'up' } } });
  });

  it('shares one run among concurrent callers and starts a new one afterwards', async () => {
    const sut = new ReadinessRegistry();
    let calls = 0;
    sut.register('counted', async () => {
      calls++;
    });

    const [first, second] = await Promise.all([sut.run(), sut.run()]);
    await sut.run();

    expect(first).toBe(second);
    expect(calls).toBe(2);
  });

  it('replaces a check registered again under the same name', async () => {
    const sut = new ReadinessRegistry();
    sut.register('db', async () => {
      throw new Error('old');
    });
    sut.register('db', async () => undefined);

    expect(sut.list().map((c) => c.name)).toEqual(['db']);
    expect(await sut.run()).toEqual({ status: 'ok', checks: { db: { status: 'up' } } });
  });
});
