import { describe, expect, it } from 'vitest';
import type { Experiment, VariantResult } from '@conduit/contracts';
import type { OutcomeAggregate, RunAggregate } from '../experiments/experiments.repository.js';
import { computeResults } from './results.js';

const experiment = (overrides: Partial<Experiment> = {}): Experiment => ({
  id: '00000000-0000-4000-8000-000000000001',
  org_id: 'org',
  name: 'e',
  status: 'running',
  seed: 's',
  variants: [
    { key: 'a', provider_id: 'p', prompt: 'x', params: {}, weight: 1 },
    { key: 'b', provider_id: 'p', prompt: 'y', params: {}, weight: 1 },
  ],
  control: 'a',
  fallback_variant: null,
  primary_metric: { name: 'score', kind: 'mean', direction: 'increase' },
  guardrail_metrics: [],
  guardrails: {},
  min_samples: 100,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  started_at: null,
  completed_at: null,
  ...overrides,
});

const runs = (variant: string, units: number, overrides: Partial<RunAggregate> = {}): RunAggregate => ({
  variant,
  units,
  runs: units,
  providerCalls: units,
  cacheHits: 0,
  coalesced: 0,
  fallbacks: 0,
  errors: 0,
  latencyP50: 100,
  latencyP95: 200,
  costPerRun: 0.001,
  totalCost: units * 0.001,
  ...overrides,
});

const score = (variant: string, n: number, mean: number, variance = 1): OutcomeAggregate => ({
  variant,
  metric: 'score',
  n,
  mean,
  variance,
  sum: n * mean,
});

describe(computeResults.name, () => {
  it('says insufficient data below min_samples', () => {
    const sut = computeResults(
      experiment(),
      [runs('a', 50), runs('b', 50)],
      [score('a', 50, 1), score('b', 50, 2)],
    );
    expect(sut.verdict.status).toBe('insufficient_data');
    expect(sut.verdict.summary).toContain('of 100 units');
  });

  it('declares a variant better only when the always-valid interval excludes 0', () => {
    const sut = computeResults(
      experiment(),
      [runs('a', 1000), runs('b', 1000)],
      [score('a', 1000, 1.0), score('b', 1000, 1.3)],
    );
    const b = sut.variants.find((v) => v.key === 'b') as VariantResult;
    expect(b.metrics[0]?.vs_control?.test).toBe('welch_t');
    expect(b.metrics[0]?.vs_control?.p_value).toBeLessThan(1e-6);
    expect(b.metrics[0]?.vs_control?.significant).toBe('better');
    expect(sut.verdict.status).toBe('better');
    expect(sut.verdict.summary).toMatch(/^variant b better on score/);
  });

  it('says no difference when the sequential interval contains 0 (even if a fixed-horizon p is < 0.05)', () => {
    // d = 0.1, SE = √(2/1000) = 0.0447: fixed p ≈ 0.025, but the sequential interval is wider.
    const sut = computeResults(
      experiment(),
      [runs('a', 1000), runs('b', 1000)],
      [score('a', 1000, 1.0), score('b', 1000, 1.1)],
    );
    const vs = sut.variants[1]?.metrics[0]?.vs_control;
    expect(vs?.p_value).toBeLessThan(0.05);
    expect(vs?.sequential_ci95?.low).toBeLessThan(0);
    expect(sut.verdict.status).toBe('no_difference');
  });

  it('uses the two-proportion z-test for proportions and honours direction: decrease', () => {
    const sut = computeResults(
      experiment({ primary_metric: { name: 'score', kind: 'proportion', direction: 'decrease' } }),
      [runs('a', 2000), runs('b', 2000)],
      [score('a', 2000, 0.3, 0.21), score('b', 2000, 0.2, 0.16)],
    );
    expect(sut.variants[1]?.metrics[0]?.vs_control?.test).toBe('two_proportion_z');
    expect(sut.verdict.status).toBe('better'); // fewer is better here
  });

  it('flags a sample ratio mismatch before anything else', () => {
    const sut = computeResults(
      experiment(),
      [runs('a', 5300), runs('b', 4700)],
      [score('a', 5300, 1), score('b', 4700, 2)],
    );
    expect(sut.sample_ratio.mismatch).toBe(true);
    expect(sut.sample_ratio.p_value).toBeLessThan(0.001);
    expect(sut.verdict.status).toBe('sample_ratio_mismatch');
  });

  it('does not flag a split that matches unequal weights', () => {
    const e = experiment({
      variants: [
        { key: 'a', provider_id: 'p', prompt: 'x', params: {}, weight: 9 },
        { key: 'b', provider_id: 'p', prompt: 'y', params: {}, weight: 1 },
      ],
    });
    const sut = computeResults(e, [runs('a', 9010), runs('b', 990)], []);
    expect(sut.sample_ratio.mismatch).toBe(false);
  });

  it('reports guardrail violations (error rate, latency, cost) per variant', () => {
    const sut = computeResults(
      experiment({ guardrails: { max_error_rate: 0.05, max_latency_p95_ms: 1000, max_cost_per_run: 0.01 } }),
      [runs('a', 1000), runs('b', 900, { errors: 100, latencyP95: 1500, costPerRun: 0.02 })],
      [score('a', 1000, 1), score('b', 1000, 1)],
    );
    const b = sut.variants[1] as VariantResult;
    expect(b.error_rate).toBeCloseTo(0.1, 10);
    expect(b.guardrail_violations).toHaveLength(3);
    expect(sut.verdict.status).toBe('guardrail_violated');
    expect(sut.variants[0]?.guardrail_violations).toEqual([]);
  });

  it('flags a guardrail metric significantly worse than control', () => {
    const e = experiment({ guardrail_metrics: [{ name: 'toxicity', kind: 'mean', direction: 'decrease' }] });
    const tox = (variant: string, mean: number): OutcomeAggregate => ({
      variant,
      metric: 'toxicity',
      n: 1000,
      mean,
      variance: 1,
      sum: mean * 1000,
    });
    const sut = computeResults(
      e,
      [runs('a', 1000), runs('b', 1000)],
      [score('a', 1000, 1), score('b', 1000, 1), tox('a', 1), tox('b', 1.5)],
    );
    expect(sut.variants[1]?.guardrail_violations).toEqual(['toxicity significantly worse than control']);
    expect(sut.verdict.status).toBe('guardrail_violated');
  });
});
