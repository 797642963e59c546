import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { summarize, type LatencySummary } from './stats.js';

export interface Target {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface LoadResult {
  readonly rps: number;
  readonly latency: LatencySummary;
  /** Non-2xx answers plus socket errors and time-outs. */
  readonly errors: number;
  readonly requests: number;
}

/**
 * Closed loop: `connections` clients each send the next request when the previous answered, for
 * `durationS` seconds (autocannon). Latencies are taken per response, so p95 is exact.
 */
export async function closedLoop(
  target: Target,
  connections: number,
  durationS: number,
): Promise<LoadResult> {
  const samples: number[] = [];
  let non2xx = 0;
  let instance: autocannon.Instance | undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: target.url,
        method: target.method ?? 'GET',
        headers: target.headers ? { ...target.headers } : undefined,
        body: target.body,
        connections,
        duration: durationS,
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      samples.push(responseTime);
      if (statusCode < 200 || statusCode >= 300) non2xx++;
    });
  });
  return {
    rps: samples.length / durationS,
    latency: summarize(samples),
    errors: non2xx + result.errors + result.timeouts,
    requests: samples.length,
  };
}

export interface OpenLoopResult extends LoadResult {
  readonly targetRate: number;
  /** Requests that left more than 1 ms after their scheduled time (the generator fell behind). */
  readonly lateStarts: number;
}

/**
 * Open loop: requests are scheduled every 1/rate seconds whatever the answers, and latency is
 * measured from the scheduled time, so a stall shows up as latency instead of silently lowering
 * the rate (no coordinated omission). Connections come from a keep-alive pool of `maxSockets`.
 */
export async function openLoop(
  target: Target,
  rate: number,
  durationS: number,
  maxSockets = 256,
): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const url = new URL(target.url);
  const total = Math.round(rate * durationS);
  const samples: number[] = [];
  let errors = 0;
  let late = 0;
  let sent = 0;
  const pending = new Set<Promise<void>>();
  const start = performance.now() + 50;
  const intervalMs = 1000 / rate;

  const fire = (scheduled: number) => {
    if (performance.now() - scheduled > 1) late++;
    const done = new Promise<void>((resolve) => {
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: target.method ?? 'GET',
          headers: {
            ...target.headers,
            ...(target.body ? { 'content-length': Buffer.byteLength(target.body) } : {}),
          },
          timeout: 10_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            samples.push(performance.now() - scheduled);
            if (!res.statusCode || res.statusCode < 200 || res.statusCode >= 300) errors++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      if (target.body) req.write(target.body);
      req.end();
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * intervalMs <= now) fire(start + sent++ * intervalMs);
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, Math.min(1, start + sent * intervalMs - performance.now())));
    };
    setTimeout(tick, 50);
  });
  await Promise.all([...pending]);
  agent.destroy();
  return {
    targetRate: rate,
    rps: samples.length / durationS,
    latency: summarize(samples),
    errors,
    requests: samples.length,
    lateStarts: late,
  };
}
