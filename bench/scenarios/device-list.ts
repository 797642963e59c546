import { startBaseline } from '../src/baseline.js';
import { closedLoop, openLoop } from '../src/load.js';
import { atLeast, below } from '../src/report.js';
import { round2 } from '../src/stats.js';
import type { Scenario } from './scenario.js';

const SEED_DEVICES = 200;

/**
 * `GET /api/v1/devices?limit=50` through the whole stack (gateway → NATS → device-control →
 * PgBouncer → Postgres): closed-loop throughput, then latency at a fixed rate, and a raw Fastify
 * server answering the same body as the baseline in the same run.
 */
export const deviceList: Scenario = {
  name: 'device-list',
  description: 'GET /api/v1/devices?limit=50: closed loop vs raw Fastify, then p50/p95/p99 at a fixed rate',
  async run(ctx) {
    const connections = ctx.flag('connections', 64);
    const duration = ctx.flag('duration', 10);
    const rate = ctx.flag('rate', 1000);
    const headers = { ...ctx.headers, 'content-type': 'application/json' };
    const list = async (limit: number) => {
      const res = await fetch(`${ctx.gatewayUrl}/api/v1/devices?limit=${limit}`, { headers });
      if (res.status !== 200)
        throw new Error(`GET /api/v1/devices answered ${res.status}: ${await res.text()}`);
      return res;
    };

    const existing = ((await (await list(500)).json()) as { data: unknown[] }).data.length;
    for (let i = existing; i < SEED_DEVICES; i++) {
      const res = await fetch(`${ctx.gatewayUrl}/api/v1/devices`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: `bench-${i}`, type: 'sensor', site: `site-${i % 10}`, tags: ['bench'] }),
      });
      if (res.status !== 201) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
    }
    const body = await (await list(50)).text();
    const url = `${ctx.gatewayUrl}/api/v1/devices?limit=50`;

    await closedLoop({ url, headers }, connections, 2); // warm-up
    const closed = await closedLoop({ url, headers }, connections, duration);
    const fixed = await openLoop({ url, headers }, rate, duration);
    const baselineServer = await startBaseline(body);
    let baseline;
    try {
      await closedLoop({ url: `${baselineServer.url}/api/v1/devices?limit=50` }, connections, 2);
      baseline = await closedLoop(
        { url: `${baselineServer.url}/api/v1/devices?limit=50` },
        connections,
        duration,
      );
    } finally {
      baselineServer.stop();
    }

    const metrics = {
      rps: round2(closed.rps),
      p50_ms: round2(closed.latency.p50),
      p95_ms: round2(closed.latency.p95),
      p99_ms: round2(closed.latency.p99),
      errors: closed.errors,
      baseline_rps: round2(baseline.rps),
      ratio: round2(closed.rps / baseline.rps),
      fixed_rate: round2(fixed.rps),
      fixed_p50_ms: round2(fixed.latency.p50),
      fixed_p95_ms: round2(fixed.latency.p95),
      fixed_p99_ms: round2(fixed.latency.p99),
      fixed_errors: fixed.errors,
      fixed_late_starts: fixed.lateStarts,
      body_bytes: Buffer.byteLength(body),
    };
    const total = closed.requests + fixed.requests;
    if ((closed.errors + fixed.errors) / Math.max(1, total) > 0.01) {
      throw new Error(`more than 1 % errors (${closed.errors + fixed.errors} of ${total})`);
    }
    return {
      params: { connections, duration_s: duration, rate, seed_devices: SEED_DEVICES },
      metrics,
      goals: { fixed_p99_ms: below(metrics.fixed_p99_ms, 25), ratio: atLeast(metrics.ratio, 0.15) },
    };
  },
};
