import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How a call ended, as counted in `conduit_breaker_calls_total{outcome}`. */
export type BreakerOutcome = 'success' | 'failure' | 'timeout' | 'reject' | 'fallback';

/** Every outcome label, so that series exist (at 0) from the breaker's creation on. */
export const BREAKER_OUTCOMES: readonly BreakerOutcome[] = [
  'success',
  'failure',
  'timeout',
  'reject',
  'fallback',
];

/** `conduit_breaker_state` values. */
export const BREAKER_STATE_VALUES = { closed: 0, half_open: 1, open: 2 } as const;

interface MetricSet {
  readonly state: Gauge<'name'>;
  readonly calls: Counter<'name' | 'outcome'>;
  readonly duration: Histogram<'name'>;
  /** Breaker names with series on this registry: two breakers of one name would merge theirs. */
  readonly names: Set<string>;
}

const byRegistry = new WeakMap<Registry, MetricSet>();

// Registered once per registry; `getSingleMetric` also covers a second copy of this module
// (another bundle, a test runner's module graph) registering on the same registry.
function metricSet(registry: Registry): MetricSet {
  let set = byRegistry.get(registry);
  if (set) return set;
  set = {
    state:
      (registry.getSingleMetric('conduit_breaker_state') as Gauge<'name'> | undefined) ??
      new Gauge({
        name: 'conduit_breaker_state',
        help: 'Circuit breaker state: 0 closed, 1 half_open, 2 open',
        labelNames: ['name'] as const,
        registers: [registry],
      }),
    calls:
      (registry.getSingleMetric('conduit_breaker_calls_total') as Counter<'name' | 'outcome'> | undefined) ??
      new Counter({
        name: 'conduit_breaker_calls_total',
        help: 'Calls through a circuit breaker by outcome (success|failure|timeout|reject); fallback counts those of them a fallback answered',
        labelNames: ['name', 'outcome'] as const,
        registers: [registry],
      }),
    duration:
      (registry.getSingleMetric('conduit_breaker_call_duration_seconds') as Histogram<'name'> | undefined) ??
      new Histogram({
        name: 'conduit_breaker_call_duration_seconds',
        help: 'Duration of the calls a circuit breaker let through (success, failure, timeout), in seconds',
        labelNames: ['name'] as const,
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      }),
    names: new Set(),
  };
  byRegistry.set(registry, set);
  return set;
}

/** The series of one breaker on one registry. */
export interface BreakerSeries {
  state(value: number): void;
  outcome(outcome: BreakerOutcome): void;
  duration(seconds: number): void;
  /** Drops this breaker's series and frees its name on the registry. Idempotent. */
  release(): void;
}

/**
 * Claims `name` on `registry` and creates its series (state 0, every outcome at 0). Throws when
 * a live breaker of that name already reports to this registry.
 */
export function breakerSeries(registry: Registry, name: string): BreakerSeries {
  const set = metricSet(registry);
  if (set.names.has(name)) {
    throw new Error(`a circuit breaker named "${name}" already reports metrics to this registry`);
  }
  set.names.add(name);
  set.state.set({ name }, BREAKER_STATE_VALUES.closed);
  for (const outcome of BREAKER_OUTCOMES) set.calls.inc({ name, outcome }, 0);
  set.duration.zero({ name });
  let released = false;
  return {
    state: (value) => {
      if (!released) set.state.set({ name }, value);
    },
    outcome: (outcome) => {
      if (!released) set.calls.inc({ name, outcome });
    },
    duration: (seconds) => {
      if (!released) set.duration.observe({ name }, seconds);
    },
    release: () => {
      if (released) return;
      released = true;
      set.state.remove({ name });
      for (const outcome of BREAKER_OUTCOMES) set.calls.remove({ name, outcome });
      set.duration.remove({ name });
      set.names.delete(name);
    },
  };
}
