import type { Experiment, ExperimentResults, Metric, MetricResult, VariantResult } from '@conduit/contracts';
import type { OutcomeAggregate, RunAggregate } from '../experiments/experiments.repository.js';
import {
  chiSquareGoodnessOfFit,
  meanInterval,
  sequentialInterval,
  twoProportionZTest,
  welchTTest,
  wilsonInterval,
  type Comparison,
  type Summary,
} from './stats.js';

/** A broken split is flagged below this p-value (the usual SRM threshold: false alarms are costly). */
export const SRM_P_THRESHOLD = 0.001;
/**
 * Mixing variance of the sequential interval, as a share of the per-unit variance: τ² = 0.05·σ²
 * (effects of ≈ 0.2 standard deviations). The interval is narrowest when V = σ²(1/n₁ + 1/n₂) is
 * near τ², i.e. around 40 units per arm, and stays valid (only wider) elsewhere — LLM experiments
 * are usually small, so this favours early answers over tiny effects (see `sequentialInterval`).
 */
export const TAU2_SHARE = 0.05;

const round = (x: number | null | undefined, digits = 6): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toFixed(digits));

interface MetricGroup {
  readonly n: number;
  readonly summary: Summary;
  readonly successes: number;
}

function group(agg: OutcomeAggregate | undefined, metric: Metric): MetricGroup {
  if (!agg) return { n: 0, summary: { n: 0, mean: Number.NaN, variance: Number.NaN }, successes: 0 };
  const variance =
    metric.kind === 'proportion' && agg.n > 1
      ? (agg.mean * (1 - agg.mean) * agg.n) / (agg.n - 1)
      : (agg.variance ?? Number.NaN);
  return { n: agg.n, summary: { n: agg.n, mean: agg.mean, variance }, successes: agg.sum };
}

function compare(metric: Metric, control: MetricGroup, treatment: MetricGroup): MetricResult['vs_control'] {
  const test: Comparison | undefined =
    metric.kind === 'mean'
      ? welchTTest(control.summary, treatment.summary)
      : twoProportionZTest(
          { successes: control.successes, n: control.n },
          { successes: treatment.successes, n: treatment.n },
        );
  if (!test) return null;
  // Sequential interval: same estimate and variance, τ² from the pooled per-unit variance.
  const pooledVariance =
    ((control.n - 1) * control.summary.variance + (treatment.n - 1) * treatment.summary.variance) /
    Math.max(1, control.n + treatment.n - 2);
  const sequential = sequentialInterval(
    test.difference,
    test.standardError ** 2,
    TAU2_SHARE * pooledVariance,
  );
  const better = metric.direction === 'increase' ? 1 : -1;
  let significant: 'better' | 'worse' | 'none' = 'none';
  if (sequential && (sequential.interval.low > 0 || sequential.interval.high < 0))
    significant = Math.sign(test.difference) === better ? 'better' : 'worse';
  return {
    difference: round(test.difference) as number,
    relative: control.summary.mean !== 0 ? round(test.difference / control.summary.mean) : null,
    test: metric.kind === 'mean' ? 'welch_t' : 'two_proportion_z',
    statistic: round(test.statistic) as number,
    df: round(test.df ?? null, 3),
    p_value: round(test.pValue, 8) as number,
    ci95: { low: round(test.interval.low) as number, high: round(test.interval.high) as number },
    sequential_ci95: sequential
      ? { low: round(sequential.interval.low) as number, high: round(sequential.interval.high) as number }
      : null,
    sequential_p_value: sequential ? round(sequential.pValue, 8) : null,
    significant,
  };
}

function metricResult(metric: Metric, mine: MetricGroup, control: MetricGroup | undefined): MetricResult {
  const ci = metric.kind === 'mean' ? meanInterval(mine.summary) : wilsonInterval(mine.successes, mine.n);
  return {
    metric: metric.name,
    kind: metric.kind,
    n: mine.n,
    mean: mine.n ? round(mine.summary.mean) : null,
    ci95: ci ? { low: round(ci.low) as number, high: round(ci.high) as number } : null,
    vs_control: control ? compare(metric, control, mine) : null,
  };
}

/**
 * The results of an experiment from its run and outcome aggregates: per variant the figures and
 * each metric against control, the sample-ratio check, guardrails and a verdict. The verdict
 * reads the always-valid (sequential) intervals, so it may be looked at at any time:
 *
 * 1. `sample_ratio_mismatch` when the units' split departs from the weights (p < 0.001);
 * 2. `guardrail_violated` when a variant breaks an operational threshold or is significantly
 *    worse on a guardrail metric;
 * 3. `insufficient_data` while a variant has fewer than `min_samples` units with a primary outcome;
 * 4. `better` / `worse` for the first variant whose primary metric differs from control;
 * 5. `no_difference` otherwise (so far).
 */
export function computeResults(
  experiment: Experiment,
  runs: readonly RunAggregate[],
  outcomes: readonly OutcomeAggregate[],
  now: Date = new Date(),
): ExperimentResults {
  const metrics = [experiment.primary_metric, ...experiment.guardrail_metrics];
  const runsOf = new Map(runs.map((r) => [r.variant, r]));
  const outcomeOf = (variant: string, metric: Metric) =>
    group(
      outcomes.find((o) => o.variant === variant && o.metric === metric.name),
      metric,
    );
  const g = experiment.guardrails;

  const variants: VariantResult[] = experiment.variants.map((v) => {
    const r = runsOf.get(v.key);
    const isControl = v.key === experiment.control;
    const attempts = (r?.providerCalls ?? 0) + (r?.errors ?? 0);
    const errorRate = attempts > 0 ? (r?.errors ?? 0) / attempts : null;
    const violations: string[] = [];
    if (g.max_error_rate !== undefined && errorRate !== null && errorRate > g.max_error_rate)
      violations.push(`error_rate ${round(errorRate, 4)} > ${g.max_error_rate}`);
    if (g.max_latency_p95_ms !== undefined && r?.latencyP95 != null && r.latencyP95 > g.max_latency_p95_ms)
      violations.push(`latency_p95_ms ${round(r.latencyP95, 1)} > ${g.max_latency_p95_ms}`);
    if (g.max_cost_per_run !== undefined && r?.costPerRun != null && r.costPerRun > g.max_cost_per_run)
      violations.push(`cost_per_run ${round(r.costPerRun)} > ${g.max_cost_per_run}`);
    const metricResults = metrics.map((m) =>
      metricResult(m, outcomeOf(v.key, m), isControl ? undefined : outcomeOf(experiment.control, m)),
    );
    for (const [i, m] of experiment.guardrail_metrics.entries()) {
      if (metricResults[i + 1]?.vs_control?.significant === 'worse')
        violations.push(`${m.name} significantly worse than control`);
    }
    return {
      key: v.key,
      weight: v.weight,
      is_control: isControl,
      units: r?.units ?? 0,
      runs: r?.runs ?? 0,
      provider_calls: r?.providerCalls ?? 0,
      cache_hits: r?.cacheHits ?? 0,
      coalesced: r?.coalesced ?? 0,
      fallbacks: r?.fallbacks ?? 0,
      errors: r?.errors ?? 0,
      error_rate: round(errorRate),
      latency_p50_ms: round(r?.latencyP50 ?? null, 3),
      latency_p95_ms: round(r?.latencyP95 ?? null, 3),
      cost_per_run: round(r?.costPerRun ?? null, 8),
      total_cost: round(r?.totalCost ?? 0, 8) as number,
      metrics: metricResults,
      guardrail_violations: violations,
    };
  });

  // Sample ratio: units per variant against the weights (variants with weight 0 take no part).
  const weighted = variants.filter((v) => v.weight > 0);
  const srm = chiSquareGoodnessOfFit(
    weighted.map((v) => v.units),
    weighted.map((v) => v.weight),
  );
  const sample_ratio = {
    chi_square: round(srm?.statistic ?? null),
    df: srm?.df ?? null,
    p_value: round(srm?.pValue ?? null, 10),
    mismatch: srm !== undefined && srm.pValue < SRM_P_THRESHOLD,
  };

  const primary = experiment.primary_metric.name;
  const verdict = ((): ExperimentResults['verdict'] => {
    if (sample_ratio.mismatch)
      return {
        status: 'sample_ratio_mismatch',
        summary: `sample ratio mismatch: units per variant (${weighted.map((v) => `${v.key} ${v.units}`).join(', ')}) do not match the weights (p = ${sample_ratio.p_value}); fix assignment or logging before reading results`,
      };
    const broken = variants.filter((v) => v.guardrail_violations.length);
    if (broken.length)
      return {
        status: 'guardrail_violated',
        summary: `guardrail violated: ${broken.map((v) => `variant ${v.key} (${v.guardrail_violations.join('; ')})`).join(', ')}`,
      };
    const short = weighted.filter((v) => (v.metrics[0]?.n ?? 0) < experiment.min_samples);
    if (short.length)
      return {
        status: 'insufficient_data',
        summary: `insufficient data: ${short.map((v) => `${v.key} has ${v.metrics[0]?.n ?? 0}`).join(', ')} of ${experiment.min_samples} units with a ${primary} outcome`,
      };
    for (const v of weighted) {
      const c = v.metrics[0]?.vs_control;
      if (c?.significant === 'better')
        return {
          status: 'better',
          summary: `variant ${v.key} better on ${primary}: ${c.difference >= 0 ? '+' : ''}${c.difference} vs control (always-valid 95 % interval ${c.sequential_ci95?.low} to ${c.sequential_ci95?.high})`,
        };
    }
    for (const v of weighted) {
      const c = v.metrics[0]?.vs_control;
      if (c?.significant === 'worse')
        return {
          status: 'worse',
          summary: `variant ${v.key} worse on ${primary}: ${c.difference >= 0 ? '+' : ''}${c.difference} vs control (always-valid 95 % interval ${c.sequential_ci95?.low} to ${c.sequential_ci95?.high})`,
        };
    }
    return {
      status: 'no_difference',
      summary: `no difference on ${primary} detected so far (every always-valid 95 % interval contains 0)`,
    };
  })();

  return {
    experiment_id: experiment.id,
    status: experiment.status,
    primary_metric: primary,
    variants,
    sample_ratio,
    verdict,
    computed_at: now.toISOString(),
  };
}
