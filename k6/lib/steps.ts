// The HTTP calls a scenario is made of, against the gateway. Every response is checked; the
// custom metrics are the cache hit rate (X-Cache) and the rate-limit hits (429).
import { check } from 'k6';
import http, { type RefinedParams, type RefinedResponse, type ResponseType } from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import type { ScenarioFile, StepName } from './scenarios.ts';

export const cacheHit = new Rate('conduit_cache_hit');
export const rateLimited = new Counter('conduit_rate_limited');

export interface StepContext {
  readonly base: string;
  readonly apiKey: string;
  readonly file: ScenarioFile;
  /** Devices created in setup(), to read from. */
  readonly devices: readonly string[];
  /** The device the current iteration created (the complex flow). */
  device?: string;
}

type Request = { method: string; url: string; body?: string; params: RefinedParams<ResponseType> };

const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(Math.random() * items.length)];

function params(ctx: StepContext, step: StepName): RefinedParams<ResponseType> {
  return {
    headers: { authorization: `Bearer ${ctx.apiKey}`, 'content-type': 'application/json' },
    tags: { step },
  };
}

function points(ctx: StepContext, device: string): string {
  const now = Date.now();
  const { points_per_request: n, metrics } = ctx.file.ingest;
  return JSON.stringify({
    points: Array.from({ length: n }, (_, i) => ({
      device_id: device,
      metric: metrics[i % metrics.length],
      ts: new Date(now - (n - i) * 1000).toISOString(),
      value: 20 + Math.random() * 5 + (i === n - 1 ? 100 : 0), // the last one an outlier for the alert path
    })),
  });
}

/** The request of `step` (not sent), so that http.batch can send several at once. */
export function request(ctx: StepContext, step: StepName): Request {
  const device = ctx.device ?? pick(ctx.devices) ?? 'none';
  const p = params(ctx, step);
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date().toISOString();
  switch (step) {
    case 'list_devices':
      return { method: 'GET', url: `${ctx.base}/api/v1/devices?limit=50`, params: p };
    case 'get_device':
      return { method: 'GET', url: `${ctx.base}/api/v1/devices/${device}`, params: p };
    case 'latest':
      return { method: 'GET', url: `${ctx.base}/api/v1/telemetry/${device}/latest`, params: p };
    case 'query':
      return {
        method: 'GET',
        url: `${ctx.base}/api/v1/telemetry/${device}?from=${from}&to=${to}&interval=1m&agg=avg,max&metric=temp`,
        params: p,
      };
    case 'ingest':
      return {
        method: 'POST',
        url: `${ctx.base}/api/v1/telemetry/batch`,
        body: points(ctx, device),
        params: p,
      };
    case 'register_device':
      return {
        method: 'POST',
        url: `${ctx.base}/api/v1/devices`,
        // The mqtt vendor: its commands are accepted (202) whether or not a device acks them.
        body: JSON.stringify({
          name: `k6 ${__VU}-${__ITER}`,
          type: 'sensor',
          tags: ['k6'],
          vendor: 'mqtt',
          external_id: `k6-${__VU}-${__ITER}-${Date.now()}`,
        }),
        params: p,
      };
    case 'command':
      return {
        method: 'POST',
        url: `${ctx.base}/api/v1/devices/${device}/commands`,
        body: JSON.stringify({ action: 'set_state', params: { on: true } }),
        params: p,
      };
    case 'alerts':
      return { method: 'GET', url: `${ctx.base}/api/v1/alerts?limit=20`, params: p };
  }
}

const EXPECTED: Record<StepName, readonly number[]> = {
  list_devices: [200],
  get_device: [200],
  latest: [200],
  query: [200],
  ingest: [202],
  register_device: [201],
  command: [201, 202],
  alerts: [200],
};

/** Checks a response of `step` and feeds the custom metrics. */
export function record(step: StepName, res: RefinedResponse<ResponseType>): void {
  if (res.status === 429) rateLimited.add(1, { step });
  const xCache = res.headers['X-Cache'];
  if (xCache === 'HIT' || xCache === 'MISS') cacheHit.add(xCache === 'HIT', { step });
  check(
    res,
    { [`${step}: status ${EXPECTED[step].join('|')}`]: (r) => EXPECTED[step].includes(r.status) },
    { step },
  );
}

export function send(ctx: StepContext, step: StepName): RefinedResponse<ResponseType> {
  const r = request(ctx, step);
  const res = http.request(r.method, r.url, r.body ?? null, r.params);
  record(step, res);
  return res;
}

/** Every step at once (http.batch): the simultaneous-calls scenario. */
export function sendAll(ctx: StepContext, steps: readonly StepName[]): void {
  const requests = steps.map((s) => request(ctx, s));
  const responses = http.batch(requests.map((r) => [r.method, r.url, r.body ?? null, r.params] as const));
  steps.forEach((step, i) => {
    const res = responses[i];
    if (res) record(step, res);
  });
}

/** A step name chosen by weight. */
export function weighted(mix: readonly { step: StepName; weight: number }[]): StepName {
  const total = mix.reduce((s, m) => s + m.weight, 0);
  let roll = Math.random() * total;
  let chosen: StepName = 'list_devices';
  for (const m of mix) {
    chosen = m.step;
    roll -= m.weight;
    if (roll < 0) break;
  }
  return chosen;
}
