import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { dueCount, sendTime } from './schedule.js';
import { summarize, type LatencySummary } from './stats.js';

export interface Target {
  readonly url: string;
  /**
   * Paths (with query) used in turn instead of the URL's own, so that a read benchmark spreads
   * over many keys rather than measuring one hot row in the database's cache.
   */
  readonly paths?: readonly string[];
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface LoadResult {
  /** Responses per second (any status) over the measured time. */
  readonly rps: number;
  /** Latency of every response (any status), ms. */
  readonly latency: LatencySummary;
  /** Non-2xx answers plus socket errors and time-outs. */
  readonly errors: number;
  /** Responses received (any status). */
  readonly requests: number;
}

export interface ClosedLoopResult extends LoadResult {
  readonly connections: number;
  /** Measured time in s, as autocannon reports it (≈ the requested duration). */
  readonly durationS: number;
}

/**
 * Closed loop (autocannon): `connections` keep-alive connections, each sending its next request
 * when the previous one is answered, for `durationS` seconds. Every response's latency is kept,
 * so the percentiles are exact. At saturation the latency is mostly time spent queued behind
 * the other connections' requests: use `openLoop` to measure latency.
 */
export async function closedLoop(
  target: Target,
  connections: number,
  durationS: number,
): Promise<ClosedLoopResult> {
  const samples: number[] = [];
  let non2xx = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        method: target.method ?? 'GET',
        headers: target.headers ? { ...target.headers } : undefined,
        body: target.body,
        connections,
        duration: durationS,
        ...(target.paths?.length ? { requests: [{ setupRequest: rotate(target.paths) }] } : {}),
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      samples.push(responseTime);
      if (statusCode < 200 || statusCode >= 300) non2xx++;
    });
  });
  // autocannon's `errors` already includes its `timeouts`.
  const measuredS = result.duration > 0 ? result.duration : durationS;
  return {
    connections,
    durationS: measuredS,
    rps: samples.length / measuredS,
    latency: summarize(samples),
    errors: non2xx + result.errors,
    requests: samples.length,
  };
}

export interface OpenLoopOptions {
  /** Requests per second. */
  readonly rate: number;
  readonly durationS: number;
  /** Seconds at the same rate before measuring, on the same pool (not counted). Default 0. */
  readonly warmupS?: number;
  /** Keep-alive pool size; must exceed rate × latency so that the pool is never the queue. */
  readonly maxSockets?: number;
  /** Per-request socket inactivity time-out, counted as an error. Default 10 000 ms. */
  readonly timeoutMs?: number;
}

export interface OpenLoopResult extends LoadResult {
  readonly targetRate: number;
  /** Requests scheduled (= rate × duration). */
  readonly sent: number;
  /** Requests per second actually handed to the HTTP client (≈ targetRate unless the generator was starved). */
  readonly sendRate: number;
  /** Requests that left more than 1 ms after their scheduled time (the generator was late). */
  readonly lateStarts: number;
  /** The largest such delay, ms. */
  readonly maxLateMs: number;
  /**
   * How late requests left (actual − scheduled send time), ms: timer granularity (~1 ms) and a
   * busy generator. It is part of the measured latency, so a p99 lag near the latency goal means
   * the generator, not the target, needs a look.
   */
  readonly sendLag: LatencySummary;
  /** Most requests in flight at once; near `maxSockets` the pool itself became the queue. */
  readonly peakInFlight: number;
  readonly maxSockets: number;
}

const LATE_MS = 1;

/** autocannon request hook cycling through `paths`. */
function rotate(paths: readonly string[]) {
  let i = 0;
  return <R extends { path?: string }>(req: R): R => ({ ...req, path: paths[i++ % paths.length] });
}

/**
 * Open loop: request `i` is due at `start + i / rate` whatever happened to the others, and its
 * latency is measured from that scheduled time, not from when it actually left. A stall in the
 * target (or in the generator) therefore shows up as latency of every request it delayed instead
 * of silently lowering the rate — no coordinated omission. `rps` counts responses from the first
 * scheduled send to the last response, so a target that falls behind shows a lower rate.
 */
export async function openLoop(target: Target, options: OpenLoopOptions): Promise<OpenLoopResult> {
  const maxSockets = options.maxSockets ?? 256;
  const agent = new Agent({ keepAlive: true, maxSockets });
  try {
    if (options.warmupS) await schedule(agent, target, options.rate, options.warmupS, options.timeoutMs);
    const run = await schedule(agent, target, options.rate, options.durationS, options.timeoutMs);
    return { ...run, maxSockets };
  } finally {
    agent.destroy();
  }
}

async function schedule(
  agent: Agent,
  target: Target,
  rate: number,
  durationS: number,
  timeoutMs = 10_000,
): Promise<Omit<OpenLoopResult, 'maxSockets'>> {
  const url = new URL(target.url);
  const method = target.method ?? 'GET';
  const headers = {
    ...target.headers,
    ...(target.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(target.body)) }),
  };
  const total = Math.max(1, Math.round(rate * durationS));
  const samples: number[] = [];
  const lags: number[] = [];
  let errors = 0;
  let late = 0;
  let maxLate = 0;
  let sent = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  let lastSentAt = 0;
  let lastDoneAt = 0;
  let settled = 0;
  let allSettled: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (allSettled = resolve));
  const settle = () => {
    inFlight--;
    lastDoneAt = performance.now();
    if (++settled === total) allSettled();
  };

  const fire = (scheduled: number) => {
    const now = performance.now();
    lastSentAt = now;
    lags.push(now - scheduled);
    if (now - scheduled > LATE_MS) {
      late++;
      maxLate = Math.max(maxLate, now - scheduled);
    }
    peakInFlight = Math.max(peakInFlight, ++inFlight);
    let done = false;
    const finish = (ok: boolean, responded: boolean) => {
      if (done) return;
      done = true;
      if (responded) samples.push(performance.now() - scheduled);
      if (!ok) errors++;
      settle();
    };
    const path = target.paths?.length
      ? (target.paths[sent % target.paths.length] ?? '/')
      : url.pathname + url.search;
    const req = request({ agent, host: url.hostname, port: url.port, path, method, headers }, (res) => {
      const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300;
      res.on('end', () => finish(ok, true));
      // A response cut short ends in 'error' or 'close' without 'end'.
      res.on('error', () => finish(false, false));
      res.on('close', () => finish(false, false));
      res.resume();
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => finish(false, false));
    req.end(target.body);
  };

  // Give the caller's synchronous work a moment to finish before the clock starts.
  const start = performance.now() + 20;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = dueCount(start, rate, total, performance.now());
      while (sent < due) fire(sendTime(start, rate, sent++));
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, sendTime(start, rate, sent) - performance.now()));
    };
    setTimeout(tick, 20);
  });
  await finished;

  const intervalMs = 1000 / rate;
  return {
    targetRate: rate,
    sent,
    sendRate: (total * 1000) / (lastSentAt - start + intervalMs),
    rps: (samples.length * 1000) / Math.max(lastDoneAt - start, durationS * 1000),
    latency: summarize(samples),
    errors,
    requests: samples.length,
    lateStarts: late,
    maxLateMs: maxLate,
    sendLag: summarize(lags),
    peakInFlight,
  };
}
