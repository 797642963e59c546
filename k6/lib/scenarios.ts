// The shape of k6/scenarios.json and its translation into k6 options. The same JSON is the
// source of truth for the Node bench harness, so a scenario means the same thing in both.
import type { Options, Scenario } from 'k6/options';

export type StepName =
  'list_devices' | 'get_device' | 'ingest' | 'query' | 'latest' | 'register_device' | 'command' | 'alerts';

export interface Stage {
  readonly duration_s: number;
  readonly target: number;
}

export interface ScenarioDefinition {
  readonly description: string;
  readonly executor: 'constant-vus' | 'ramping-vus' | 'ramping-arrival-rate' | 'constant-arrival-rate';
  readonly vus?: number;
  readonly start_vus?: number;
  readonly duration_s?: number;
  readonly stages?: readonly Stage[];
  readonly rate?: number;
  readonly start_rate?: number;
  readonly time_unit_s?: number;
  readonly pre_allocated_vus?: number;
  readonly max_vus?: number;
  readonly mix: string;
  /** Run the mix's steps in order each iteration (the complex flow) instead of picking one by weight. */
  readonly sequential?: boolean;
  /** Send every step of the mix at once each iteration (http.batch). */
  readonly batch?: boolean;
  readonly abort_on_fail?: boolean;
}

export interface StepThreshold {
  readonly p95_ms: number;
  readonly p99_ms: number;
}

export interface ScenarioFile {
  readonly baseUrl: string;
  readonly thresholds: {
    readonly http_req_duration_p95_ms: number;
    readonly http_req_duration_p99_ms: number;
    readonly http_req_failed_rate: number;
    readonly cache_hit_rate_min: number;
    readonly rate_limited_max: number;
    readonly steps: Readonly<Record<StepName, StepThreshold>>;
  };
  readonly mixes: Readonly<Record<string, readonly { readonly step: StepName; readonly weight: number }[]>>;
  readonly ingest: { readonly points_per_request: number; readonly metrics: readonly string[] };
  readonly scenarios: Readonly<Record<string, ScenarioDefinition>>;
}

const seconds = (s: number) => `${s}s`;

function k6Scenario(def: ScenarioDefinition): Scenario {
  const stages = (def.stages ?? []).map((s) => ({ duration: seconds(s.duration_s), target: s.target }));
  switch (def.executor) {
    case 'constant-vus':
      return { executor: 'constant-vus', vus: def.vus ?? 1, duration: seconds(def.duration_s ?? 60) };
    case 'ramping-vus':
      return { executor: 'ramping-vus', startVUs: def.start_vus ?? 0, stages };
    case 'ramping-arrival-rate':
      return {
        executor: 'ramping-arrival-rate',
        startRate: def.start_rate ?? 1,
        timeUnit: seconds(def.time_unit_s ?? 1),
        preAllocatedVUs: def.pre_allocated_vus ?? 10,
        maxVUs: def.max_vus ?? 100,
        stages,
      };
    case 'constant-arrival-rate':
      return {
        executor: 'constant-arrival-rate',
        rate: def.rate ?? 1,
        timeUnit: seconds(def.time_unit_s ?? 1),
        duration: seconds(def.duration_s ?? 60),
        preAllocatedVUs: def.pre_allocated_vus ?? 10,
        maxVUs: def.max_vus ?? 100,
      };
  }
}

/** k6 options of one named scenario: its executor and the thresholds of our goals. */
export function optionsFor(file: ScenarioFile, name: string): Options {
  const def = file.scenarios[name];
  if (!def) throw new Error(`unknown scenario ${name} (one of ${Object.keys(file.scenarios).join(', ')})`);
  const t = file.thresholds;
  const abort = def.abort_on_fail === true;
  const thresholds: NonNullable<Options['thresholds']> = {
    http_req_duration: [
      { threshold: `p(95)<${t.http_req_duration_p95_ms}`, abortOnFail: abort, delayAbortEval: '30s' },
      `p(99)<${t.http_req_duration_p99_ms}`,
    ],
    http_req_failed: [
      { threshold: `rate<${t.http_req_failed_rate}`, abortOnFail: abort, delayAbortEval: '30s' },
    ],
    conduit_rate_limited: [`count<=${t.rate_limited_max}`],
  };
  const steps = new Set((file.mixes[def.mix] ?? []).map((m) => m.step));
  if (steps.has('list_devices') || steps.has('get_device'))
    thresholds['conduit_cache_hit'] = [`rate>=${t.cache_hit_rate_min}`];
  for (const step of steps) {
    const s = t.steps[step];
    thresholds[`http_req_duration{step:${step}}`] = [`p(95)<${s.p95_ms}`, `p(99)<${s.p99_ms}`];
  }
  return {
    scenarios: { [name]: k6Scenario(def) },
    thresholds,
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  };
}
