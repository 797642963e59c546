import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { orgAuthHeaders } from '../src/auth.js';
import { ROOT } from '../src/context.js';
import { below, errorShareFailure } from '../src/report.js';
import { round2, summarize } from '../src/stats.js';
import { ensureReachable } from '../src/target.js';
import type { Scenario } from './scenario.js';

/** The parts of k6/scenarios.json this harness reads: the same definitions k6 runs. */
interface ScenarioFile {
  readonly thresholds: { readonly steps: Readonly<Record<string, { p95_ms: number; p99_ms: number }>> };
  readonly mixes: Readonly<Record<string, readonly { step: string; weight: number }[]>>;
  readonly ingest: { readonly points_per_request: number; readonly metrics: readonly string[] };
  readonly scenarios: Readonly<
    Record<string, { vus?: number; duration_s?: number; mix: string; sequential?: boolean }>
  >;
}

interface Step {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  readonly expect: readonly number[];
}

/**
 * The complex-operations flow of `k6/scenarios.json` (`complex`): each virtual user loops over
 * register a device → ingest a batch → query it → send a command → list alerts, as k6 does, and
 * every step's latency is kept exactly. Per-step p95/p99 goals come from the same file.
 */
export const complex: Scenario = {
  name: 'complex',
  description: 'k6/scenarios.json `complex`: register → ingest → query → command → alerts per iteration',
  options: {
    vus: 'virtual users (the file: 10)',
    duration: 'seconds (30; the file says 120 for k6)',
  },
  async run(ctx) {
    const file = JSON.parse(readFileSync(join(ROOT, 'k6/scenarios.json'), 'utf8')) as ScenarioFile;
    const def = file.scenarios['complex'];
    if (!def) throw new Error('k6/scenarios.json has no `complex` scenario');
    const mix = file.mixes[def.mix] ?? [];
    const vus = ctx.flag('vus', def.vus ?? 10);
    const duration = ctx.flag('duration', 30);
    await ensureReachable(ctx.gatewayUrl);
    const org = `bench-cx-${randomBytes(3).toString('hex')}`;
    const headers = {
      ...(await orgAuthHeaders(ctx.gatewayUrl, ctx.headers, org)),
      'content-type': 'application/json',
    };

    const stepOf = (name: string, device: string | undefined, vu: number, iteration: number): Step => {
      const now = Date.now();
      const from = new Date(now - 3_600_000).toISOString();
      switch (name) {
        case 'register_device':
          return {
            method: 'POST',
            path: '/api/v1/devices',
            body: {
              name: `bench ${vu}-${iteration}`,
              type: 'sensor',
              vendor: 'mqtt',
              external_id: `cx-${vu}-${iteration}-${now}`,
            },
            expect: [201],
          };
        case 'ingest': {
          const n = file.ingest.points_per_request;
          return {
            method: 'POST',
            path: '/api/v1/telemetry/batch',
            body: {
              points: Array.from({ length: n }, (_, i) => ({
                device_id: device,
                metric: file.ingest.metrics[i % file.ingest.metrics.length],
                ts: new Date(now - (n - i) * 1000).toISOString(),
                value: 20 + Math.random() * 5 + (i === n - 1 ? 100 : 0),
              })),
            },
            expect: [202],
          };
        }
        case 'query':
          return {
            method: 'GET',
            path: `/api/v1/telemetry/${device}?from=${from}&to=${new Date(now).toISOString()}&interval=1m&agg=avg,max&metric=temp`,
            expect: [200],
          };
        case 'command':
          return {
            method: 'POST',
            path: `/api/v1/devices/${device}/commands`,
            body: { action: 'set_state', params: { on: true } },
            expect: [202],
          };
        case 'alerts':
          return { method: 'GET', path: '/api/v1/alerts?limit=20', expect: [200] };
        default:
          throw new Error(`the complex mix names an unknown step ${name}`);
      }
    };

    const samples = new Map<string, number[]>(mix.map((m) => [m.step, []]));
    const errors = new Map<string, number>(mix.map((m) => [m.step, 0]));
    const failures: string[] = [];
    let iterations = 0;
    const deadline = Date.now() + duration * 1000;
    console.log(`complex: ${vus} virtual users, ${duration} s`);
    await Promise.all(
      Array.from({ length: vus }, async (_, vu) => {
        for (let iteration = 0; Date.now() < deadline; iteration++) {
          let device: string | undefined;
          for (const { step: name } of mix) {
            const step = stepOf(name, device, vu, iteration);
            const t0 = performance.now();
            const res = await fetch(`${ctx.gatewayUrl}${step.path}`, {
              method: step.method,
              headers,
              body: step.body === undefined ? undefined : JSON.stringify(step.body),
            });
            const text = await res.text();
            samples.get(name)?.push(performance.now() - t0);
            if (!step.expect.includes(res.status)) {
              errors.set(name, (errors.get(name) ?? 0) + 1);
              if (failures.length < 5) failures.push(`${name}: ${res.status} ${text.slice(0, 200)}`);
            }
            if (name === 'register_device' && res.status === 201)
              device = (JSON.parse(text) as { id: string }).id;
          }
          iterations++;
        }
      }),
    );
    for (const f of failures) console.warn(`  ${f}`);

    const metrics: Record<string, number> = { iterations, iterations_per_s: round2(iterations / duration) };
    const goals: Record<string, ReturnType<typeof below>> = {};
    let total = 0;
    let failed = 0;
    for (const [name, values] of samples) {
      const s = summarize(values);
      metrics[`${name}_p50_ms`] = round2(s.p50);
      metrics[`${name}_p95_ms`] = round2(s.p95);
      metrics[`${name}_p99_ms`] = round2(s.p99);
      metrics[`${name}_errors`] = errors.get(name) ?? 0;
      total += values.length;
      failed += errors.get(name) ?? 0;
      const goal = file.thresholds.steps[name];
      if (goal) goals[`${name}_p95_ms`] = below(metrics[`${name}_p95_ms`] ?? Number.NaN, goal.p95_ms);
    }
    const failure = errorShareFailure('complex flow', failed, total);
    return {
      params: { vus, duration_s: duration, org, source: 'k6/scenarios.json#complex' },
      metrics,
      goals,
      ...(failure ? { failure } : {}),
    };
  },
};
