import { randomBytes } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { orgAuthHeaders } from '../src/auth.js';
import { below, errorShareFailure } from '../src/report.js';
import { round2, summarize, type LatencySummary } from '../src/stats.js';
import { ensureReachable } from '../src/target.js';
import type { Scenario } from './scenario.js';

/** An OpenAI-compatible endpoint answering after `latencyMs`; counts calls. */
async function startProvider(latencyMs: number): Promise<{ server: Server; url: string; calls(): number }> {
  let calls = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      setTimeout(() => {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(
            '{"choices":[{"message":{"role":"assistant","content":"bench answer"}}],"usage":{"prompt_tokens":12,"completion_tokens":3}}',
          );
      }, latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, calls: () => calls };
}

interface PhaseResult {
  readonly latency: LatencySummary;
  readonly errors: number;
  readonly sent: number;
  readonly cacheHits: number;
}

/**
 * Open loop at `rate` runs/s for `durationS`, each run's latency measured from its scheduled send
 * time (no coordinated omission). Bodies differ per run — `bench/src/load.ts` sends one fixed
 * body — so that a share `hitRatio` of the runs repeats a prompt already answered (a cache hit)
 * and the rest are new.
 */
async function phase(
  url: string,
  headers: Readonly<Record<string, string>>,
  rate: number,
  durationS: number,
  hitRatio: number,
  tag: string,
): Promise<PhaseResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const target = new URL(url);
  const total = Math.round(rate * durationS);
  const samples: number[] = [];
  let errors = 0;
  let cacheHits = 0;
  let settled = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const warm = `${tag}-warm`; // answered once before the phase: every repeat of it is a hit
  const fire = (i: number, scheduled: number) => {
    // Deterministic mix: run i repeats the warm prompt when its slot falls under the ratio.
    const repeat = (i * 0.6180339887) % 1 < hitRatio;
    const body = JSON.stringify({
      unit_id: `u-${i % 5000}`,
      variables: { q: repeat ? warm : `${tag}-${i}` },
    });
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          samples.push(performance.now() - scheduled);
          if (res.statusCode !== 200) errors++;
          else if (/"cache_hit":true/.test(Buffer.concat(chunks).toString())) cacheHits++;
          if (++settled === total) done();
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      errors++;
      if (++settled === total) done();
    });
    req.end(body);
  };
  const start = performance.now() + 10;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    fire(i, due);
  }
  await finished;
  agent.destroy();
  return { latency: summarize(samples), errors, sent: total, cacheHits };
}

/**
 * `POST /api/v1/experiments/:id/run` through the gateway to a local OpenAI-compatible provider
 * answering in `--provider-latency` ms, at a fixed rate, with cache hit ratios of 0 %, 50 % and
 * 90 %. The overhead the platform adds is the 0 % phase's p95 minus the p95 of the provider called
 * directly at the same rate in the same run.
 */
export const llm: Scenario = {
  name: 'llm',
  description:
    'LLM experiment runs through the gateway at a fixed rate: p95 at 0/50/90 % cache hits, overhead',
  options: {
    rate: 'runs per second (200)',
    duration: 'seconds per phase (10)',
    'provider-latency': "the fake provider's answer time in ms (50)",
  },
  async run(ctx) {
    const rate = ctx.flag('rate', 200);
    const duration = ctx.flag('duration', 10);
    const providerLatency = ctx.flag('provider-latency', 50);
    await ensureReachable(ctx.gatewayUrl);
    const org = `bench-llm-${randomBytes(3).toString('hex')}`;
    const headers = await orgAuthHeaders(ctx.gatewayUrl, ctx.headers, org);
    const provider = await startProvider(providerLatency);
    try {
      const post = async (path: string, body: unknown, method = 'POST') => {
        const res = await fetch(`${ctx.gatewayUrl}${path}`, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const json = (await res.json()) as Record<string, unknown>;
        if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
        return json;
      };
      await post('/api/v1/providers', {
        id: 'bench',
        kind: 'openai',
        name: 'bench provider',
        base_url: provider.url,
        timeout_ms: 5_000,
        max_retries: 0,
        concurrency: 1_000,
        cost_per_1k_input: 0.5,
        cost_per_1k_output: 1.5,
      });
      const experiment = await post('/api/v1/experiments', {
        name: 'bench',
        variants: [
          { key: 'control', provider_id: 'bench', prompt: 'Answer {{q}}', weight: 1 },
          { key: 'b', provider_id: 'bench', prompt: 'Answer briefly {{q}}', weight: 1 },
        ],
        primary_metric: { name: 'score', kind: 'mean' },
      });
      const id = experiment['id'] as string;
      await post(`/api/v1/experiments/${id}`, { status: 'running' }, 'PATCH');
      const runUrl = `${ctx.gatewayUrl}/api/v1/experiments/${id}/run`;

      // Warm-up at the same rate, not measured: a cold stack (JIT, pools, first Redis and
      // Postgres connections) added ~250 ms to the first phase's p95 in a first run.
      console.log(`warm-up: ${rate} runs/s for 3 s`);
      await phase(runUrl, headers, rate, 3, 0, `warmup-${randomBytes(3).toString('hex')}`);
      const results: Record<string, PhaseResult> = {};
      for (const [name, ratio] of [
        ['hit0', 0],
        ['hit50', 0.5],
        ['hit90', 0.9],
      ] as const) {
        const tag = `${name}-${randomBytes(3).toString('hex')}`;
        // Warm the repeated prompt for both variants (units 0..9 cover both).
        for (let u = 0; u < 10; u++)
          await post(`/api/v1/experiments/${id}/run`, { unit_id: `u-${u}`, variables: { q: `${tag}-warm` } });
        console.log(`${name}: ${rate} runs/s for ${duration} s, ${ratio * 100} % repeated prompts`);
        results[name] = await phase(runUrl, headers, rate, duration, ratio, tag);
      }
      // Baseline in the same run: the provider called straight, at the same rate from the same
      // generator, so the generator's own timer lag and the provider's timer granularity are not
      // counted as the platform's overhead.
      console.log(`baseline: the provider directly, ${rate} calls/s for ${duration} s`);
      const direct = await phase(`${provider.url}/chat/completions`, {}, rate, duration, 0, 'direct');
      const r0 = results['hit0'] as PhaseResult;
      const metrics = {
        rate,
        provider_latency_ms: providerLatency,
        provider_calls: provider.calls(),
        ...Object.fromEntries(
          Object.entries(results).flatMap(([name, r]) => [
            [`${name}_p50_ms`, round2(r.latency.p50)],
            [`${name}_p95_ms`, round2(r.latency.p95)],
            [`${name}_p99_ms`, round2(r.latency.p99)],
            [`${name}_hit_ratio`, round2(r.cacheHits / Math.max(1, r.sent))],
            [`${name}_errors`, r.errors],
          ]),
        ),
        provider_direct_p50_ms: round2(direct.latency.p50),
        provider_direct_p95_ms: round2(direct.latency.p95),
        overhead_p50_ms: round2(r0.latency.p50 - direct.latency.p50),
        overhead_p95_ms: round2(r0.latency.p95 - direct.latency.p95),
      };
      const failure = Object.entries(results)
        .map(([name, r]) => errorShareFailure(name, r.errors, r.sent))
        .filter((reason) => reason !== undefined);
      return {
        params: { rate, duration_s: duration, provider_latency_ms: providerLatency, org },
        metrics,
        goals: { overhead_p95_ms: below(metrics.overhead_p95_ms, 5) },
        ...(failure.length ? { failure: failure.join('; ') } : {}),
      };
    } finally {
      provider.server.closeAllConnections();
      provider.server.close();
    }
  },
};
