import { replayableHeaders, startBaseline } from '../src/baseline.js';
import type { BenchContext } from '../src/context.js';
import { closedLoop, openLoop } from '../src/load.js';
import { atLeast, below, errorShareFailure } from '../src/report.js';
import { round, round2 } from '../src/stats.js';
import { ensureReachable } from '../src/target.js';
import type { Scenario } from './scenario.js';

const SEED_DEVICES = 200;
const PATH = '/api/v1/devices?limit=50';

interface DevicePage {
  readonly data: unknown[];
  readonly next_cursor: string | null;
}

/** Makes sure the bench org owns at least `SEED_DEVICES` devices; returns how many it created. */
async function seed(ctx: BenchContext): Promise<number> {
  const headers = { ...ctx.headers, 'content-type': 'application/json' };
  const res = await fetch(`${ctx.gatewayUrl}/api/v1/devices?limit=500`, { headers: ctx.headers });
  if (res.status !== 200)
    throw new Error(`GET /api/v1/devices?limit=500 answered ${res.status}: ${await res.text()}`);
  const page = (await res.json()) as DevicePage;
  if (!Array.isArray(page.data)) throw new Error('GET /api/v1/devices: no `data` array in the response');
  const existing = page.data.length;
  for (let i = existing; i < SEED_DEVICES; i++) {
    const created = await fetch(`${ctx.gatewayUrl}/api/v1/devices`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: `bench-${i}`, type: 'sensor', site: `site-${i % 10}`, tags: ['bench'] }),
    });
    if (created.status !== 201) throw new Error(`seeding failed: ${created.status} ${await created.text()}`);
  }
  return Math.max(0, SEED_DEVICES - existing);
}

interface DeviceListVariant {
  readonly name: string;
  readonly description: string;
  /** false: every request bypasses the response cache (`Cache-Control: no-cache`). */
  readonly cached: boolean;
  readonly defaultRate: number;
  readonly goals: { readonly fixedP99Ms: number; readonly ratio: number };
}

/**
 * `GET /api/v1/devices?limit=50` with auth and rate limiting: closed-loop throughput, then
 * latency at a fixed rate, then a raw Fastify server answering the same bytes as the baseline,
 * in the same run. Uncached it crosses the whole stack (gateway → NATS → device-control →
 * PgBouncer → Postgres); cached it is answered by the gateway's response cache.
 */
const deviceListScenario = (variant: DeviceListVariant): Scenario => ({
  name: variant.name,
  description: variant.description,
  options: {
    connections: 'closed-loop connections (64)',
    duration: 'seconds per measured phase (10)',
    rate: `open-loop requests per second (${variant.defaultRate})`,
    warmup: 'closed-loop warm-up seconds before each closed phase (2)',
  },
  async run(ctx) {
    const connections = ctx.flag('connections', 64);
    const duration = ctx.flag('duration', 10);
    const rate = ctx.flag('rate', variant.defaultRate);
    const warmup = ctx.flag('warmup', 2);
    const headers = variant.cached ? ctx.headers : { ...ctx.headers, 'cache-control': 'no-cache' };

    await ensureReachable(ctx.gatewayUrl);
    const seeded = await seed(ctx);

    // The baseline serves the exact bytes and headers of one real response.
    const sample = await fetch(`${ctx.gatewayUrl}${PATH}`, { headers });
    const body = await sample.text();
    if (sample.status !== 200) throw new Error(`GET ${PATH} answered ${sample.status}: ${body}`);
    const responseHeaders = replayableHeaders(sample.headers);

    const target = { url: `${ctx.gatewayUrl}${PATH}`, headers };
    if (variant.cached) {
      const again = await fetch(target.url, { headers });
      await again.arrayBuffer();
      if (again.headers.get('x-cache') !== 'HIT')
        throw new Error(`expected X-Cache: HIT, got ${again.headers.get('x-cache')}`);
    }
    console.log(`closed loop: ${connections} connections, ${warmup} s warm-up + ${duration} s`);
    await closedLoop(target, connections, warmup);
    const closed = await closedLoop(target, connections, duration);
    console.log(`open loop: ${rate} req/s, 1 s warm-up + ${duration} s`);
    const fixed = await openLoop(target, { rate, durationS: duration, warmupS: 1, maxSockets: 1024 });
    if (fixed.peakInFlight >= fixed.maxSockets)
      console.warn(
        `warning: ${fixed.peakInFlight} requests in flight: the pool (${fixed.maxSockets}) queued them`,
      );

    console.log(
      `baseline (raw Fastify, child process): ${connections} connections, ${warmup} s + ${duration} s`,
    );
    const { baseline, baselineFixed } = await (async () => {
      await using server = await startBaseline(body, responseHeaders);
      const baselineTarget = { url: `${server.url}${PATH}`, headers };
      await closedLoop(baselineTarget, connections, warmup);
      // `await` inside: the server must outlive the measurements (`await using` disposes on return).
      const closedBaseline = await closedLoop(baselineTarget, connections, duration);
      // The same fixed rate against the raw server: what the generator itself adds to the tail
      // (timer lag, its own HTTP client) on these two cores.
      console.log(`baseline open loop: ${rate} req/s, 1 s warm-up + ${duration} s`);
      const fixedBaseline = await openLoop(baselineTarget, {
        rate,
        durationS: duration,
        warmupS: 1,
        maxSockets: 1024,
      });
      return { baseline: closedBaseline, baselineFixed: fixedBaseline };
    })();

    const metrics = {
      rps: round2(closed.rps),
      p50_ms: round2(closed.latency.p50),
      p95_ms: round2(closed.latency.p95),
      p99_ms: round2(closed.latency.p99),
      errors: closed.errors,
      baseline_rps: round2(baseline.rps),
      baseline_p99_ms: round2(baseline.latency.p99),
      ratio: baseline.rps > 0 ? round(closed.rps / baseline.rps, 4) : Number.NaN,
      fixed_rate: round2(fixed.rps),
      fixed_p50_ms: round2(fixed.latency.p50),
      fixed_p95_ms: round2(fixed.latency.p95),
      fixed_p99_ms: round2(fixed.latency.p99),
      fixed_max_ms: round2(fixed.latency.max),
      fixed_errors: fixed.errors,
      fixed_late_starts: fixed.lateStarts,
      fixed_send_lag_p99_ms: round2(fixed.sendLag.p99),
      fixed_peak_in_flight: fixed.peakInFlight,
      baseline_fixed_p50_ms: round2(baselineFixed.latency.p50),
      baseline_fixed_p99_ms: round2(baselineFixed.latency.p99),
      baseline_fixed_send_lag_p99_ms: round2(baselineFixed.sendLag.p99),
      body_bytes: Buffer.byteLength(body),
    };
    const failure = [
      errorShareFailure('closed loop', closed.errors, closed.requests),
      errorShareFailure('open loop', fixed.errors, fixed.sent),
      errorShareFailure('baseline', baseline.errors, baseline.requests),
    ].filter((reason) => reason !== undefined);
    return {
      params: {
        url: PATH,
        connections,
        duration_s: duration,
        warmup_s: warmup,
        rate,
        seed_devices: SEED_DEVICES,
        seeded_now: seeded,
        response_cache: variant.cached,
      },
      metrics,
      goals: {
        fixed_p99_ms: below(metrics.fixed_p99_ms, variant.goals.fixedP99Ms),
        ratio: atLeast(metrics.ratio, variant.goals.ratio),
      },
      ...(failure.length ? { failure: failure.join('; ') } : {}),
    };
  },
});

export const deviceList = deviceListScenario({
  name: 'device-list',
  description:
    'GET /api/v1/devices?limit=50 uncached, whole stack: closed loop vs raw Fastify, then a fixed rate',
  cached: false,
  defaultRate: 1000,
  goals: { fixedP99Ms: 25, ratio: 0.15 },
});

export const gatewayCached = deviceListScenario({
  name: 'gateway-cached',
  description:
    'GET /api/v1/devices?limit=50 from the response cache (auth + rate limits on): vs raw Fastify, then 5 000 req/s',
  cached: true,
  defaultRate: 5000,
  goals: { fixedP99Ms: 10, ratio: 0.4 },
});
