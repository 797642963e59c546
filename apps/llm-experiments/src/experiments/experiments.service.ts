import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  LlmExperimentStatusChanged,
  LlmRunCompleted,
  type CreateExperimentBody,
  type Experiment,
  type ExperimentResults,
  type ExperimentStatus,
  type OutcomeAccepted,
  type OutcomeBody,
  type Provider,
  type Run,
  type RunBody,
  type UpdateExperimentBody,
  type Variant,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { EventPublisher, RpcError } from '@conduit/messaging';
import {
  ProviderCallError,
  ProviderCallsService,
  type CallResult,
} from '../providers/provider-calls.service.js';
import { ProvidersRepository } from '../providers/providers.repository.js';
import { computeResults } from '../results/results.js';
import { assignVariant } from './assignment.js';
import { DefinitionsService } from './definitions.service.js';
import { ExperimentsRepository } from './experiments.repository.js';
import { RunRecorder } from './run-recorder.js';
import { RunsConsumer } from './runs.consumer.js';
import { MissingVariableError, renderTemplate } from './template.js';

/** Token of {@link ProviderCallsService} (built by a factory: it needs the cache and breakers). */
export const PROVIDER_CALLS = Symbol('PROVIDER_CALLS');

/** Status changes an experiment may make. */
const TRANSITIONS: Readonly<Record<ExperimentStatus, readonly ExperimentStatus[]>> = {
  draft: ['running', 'completed'],
  running: ['paused', 'completed'],
  paused: ['running', 'completed'],
  completed: [],
};

const DRAFT_ONLY = [
  'variants',
  'control',
  'fallback_variant',
  'primary_metric',
  'guardrail_metrics',
] as const;

/** Cost of a completion: tokens × the provider's price per 1 000. */
export const costOf = (p: Provider, inputTokens: number, outputTokens: number): number =>
  (inputTokens * p.cost_per_1k_input + outputTokens * p.cost_per_1k_output) / 1000;

@Injectable()
export class ExperimentsService {
  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly providers: ProvidersRepository,
    @Inject(PROVIDER_CALLS) private readonly calls: ProviderCallsService,
    private readonly publisher: EventPublisher,
    private readonly definitions: DefinitionsService,
    private readonly runs: RunsConsumer,
    private readonly recorder: RunRecorder,
  ) {}

  async create(scope: TenantScope, body: CreateExperimentBody): Promise<Experiment> {
    await this.checkProviders(scope, body.variants);
    const id = randomUUID();
    return this.experiments.create(scope, {
      id,
      name: body.name,
      status: 'draft',
      seed: body.seed ?? id,
      variants: body.variants,
      control: body.control ?? (body.variants[0] as Variant).key,
      fallback_variant: body.fallback_variant ?? null,
      primary_metric: body.primary_metric,
      guardrail_metrics: body.guardrail_metrics,
      guardrails: body.guardrails,
      min_samples: body.min_samples,
    });
  }

  list(scope: TenantScope): Promise<Experiment[]> {
    return this.experiments.list(scope);
  }

  async get(scope: TenantScope, id: string): Promise<Experiment> {
    const found = await this.experiments.get(scope, id);
    if (!found) throw new RpcError('not_found', `experiment ${id} not found`);
    return found;
  }

  /**
   * Changes an experiment. Variants, control, fallback and metrics change only while `draft`
   * (409 otherwise); `status` follows {@link TRANSITIONS}. Publishes `…experiment.status_changed`.
   */
  async update(scope: TenantScope, id: string, changes: UpdateExperimentBody): Promise<Experiment> {
    const current = await this.get(scope, id);
    const locked = DRAFT_ONLY.filter((f) => changes[f] !== undefined);
    if (locked.length && current.status !== 'draft')
      throw new RpcError(
        'conflict',
        `experiment ${id} is ${current.status}: ${locked.join(', ')} can only change while draft`,
      );
    if (
      changes.status &&
      changes.status !== current.status &&
      !TRANSITIONS[current.status].includes(changes.status)
    )
      throw new RpcError(
        'conflict',
        `experiment ${id} cannot go from ${current.status} to ${changes.status}`,
      );
    const next: Experiment = {
      ...current,
      name: changes.name ?? current.name,
      status: changes.status ?? current.status,
      variants: changes.variants ?? current.variants,
      control: changes.control ?? (changes.variants ? (changes.variants[0] as Variant).key : current.control),
      fallback_variant:
        changes.fallback_variant === undefined ? current.fallback_variant : changes.fallback_variant,
      primary_metric: changes.primary_metric ?? current.primary_metric,
      guardrail_metrics: changes.guardrail_metrics ?? current.guardrail_metrics,
      guardrails: changes.guardrails ?? current.guardrails,
      min_samples: changes.min_samples ?? current.min_samples,
    };
    for (const [field, key] of [
      ['control', next.control],
      ['fallback_variant', next.fallback_variant],
    ] as const) {
      if (key !== null && !next.variants.some((v) => v.key === key))
        throw new RpcError('validation_failed', `${field} ${key} is not a variant`, [
          { field, message: 'must be the key of a variant' },
        ]);
    }
    if (changes.variants) await this.checkProviders(scope, changes.variants);
    const updated = await this.experiments.update(scope, next, current.status);
    if (!updated) throw new RpcError('conflict', `experiment ${id} changed concurrently; retry`);
    await this.definitions.forgetExperiment(scope, id);
    if (updated.status !== current.status) {
      await this.publisher.publish(
        LlmExperimentStatusChanged,
        [scope.orgId],
        {
          version: 1,
          org_id: scope.orgId,
          experiment_id: id,
          status: updated.status,
          previous: current.status,
          occurred_at: updated.updated_at,
        },
        { msgId: `llm.experiment.status_changed:${id}:${updated.status}:${updated.updated_at}` },
      );
    }
    return updated;
  }

  async delete(scope: TenantScope, id: string): Promise<{ deleted: true }> {
    if (!(await this.experiments.delete(scope, id)))
      throw new RpcError('not_found', `experiment ${id} not found`);
    await this.definitions.forgetExperiment(scope, id);
    return { deleted: true };
  }

  /**
   * One run: assign the unit, render its variant's prompt, call the provider (cache, coalescing,
   * retries, breaker), fall back to `fallback_variant` when the call fails, record the run and
   * publish `llm.<org>.run.completed`. Refused (409) unless the experiment is running; a missing
   * template variable is a 400; a failure with no fallback answer is a 503 naming the cause
   * (the run is recorded either way).
   */
  async run(scope: TenantScope, id: string, body: RunBody): Promise<Run> {
    const experiment = await this.definitions.experiment(scope, id, () => this.get(scope, id));
    if (experiment.status !== 'running')
      throw new RpcError('conflict', `experiment ${id} is ${experiment.status}, not running`);
    const assigned = assignVariant(
      experiment.seed,
      body.unit_id,
      experiment.variants.filter((v) => v.weight > 0),
    );
    const fallbackVariant =
      experiment.fallback_variant && experiment.fallback_variant !== assigned.key
        ? experiment.variants.find((v) => v.key === experiment.fallback_variant)
        : undefined;
    const providerIds = [
      ...new Set([assigned.provider_id, fallbackVariant?.provider_id].filter((x) => x !== undefined)),
    ];
    const providers = new Map(
      (await this.definitions.providers(scope, providerIds, (pid) => this.providers.get(scope, pid))).map(
        (p) => [p.id, p],
      ),
    );

    const started = performance.now();
    const attempt = async (variant: Variant) => {
      const provider = providers.get(variant.provider_id);
      if (!provider)
        throw new ProviderCallError('provider_refused', `provider ${variant.provider_id} does not exist`);
      let prompt: string;
      try {
        prompt = renderTemplate(variant.prompt, body.variables);
      } catch (error) {
        if (error instanceof MissingVariableError)
          throw new RpcError('validation_failed', error.message, [
            ...error.variables.map((v) => ({
              field: `variables.${v}`,
              message: 'required by the prompt template',
            })),
          ]);
        throw error;
      }
      const model = variant.model ?? provider.default_model;
      const result = await this.calls.call(scope, provider, { model, prompt, params: variant.params });
      return { provider, model, result };
    };

    let served: { variant: Variant; provider: Provider; model: string; result: CallResult } | undefined;
    let failure: ProviderCallError | undefined;
    try {
      served = { variant: assigned, ...(await attempt(assigned)) };
    } catch (error) {
      if (!(error instanceof ProviderCallError)) throw error;
      failure = error;
      if (fallbackVariant) {
        try {
          served = { variant: fallbackVariant, ...(await attempt(fallbackVariant)) };
        } catch (fallbackError) {
          if (!(fallbackError instanceof ProviderCallError)) throw fallbackError;
        }
      }
    }

    const completion = served?.result.completion;
    const providerCall = served?.result.source === 'provider';
    const now = new Date();
    const run: Run = {
      id: randomUUID(),
      experiment_id: id,
      unit_id: body.unit_id,
      variant: assigned.key,
      served_by: served?.variant.key ?? null,
      provider_id: served?.provider.id ?? assigned.provider_id,
      model: served?.model ?? null,
      source: served?.result.source ?? null,
      cache_hit: served !== undefined && !providerCall,
      fallback: served !== undefined && served.variant.key !== assigned.key,
      output: completion?.output ?? null,
      latency_ms: Number((served?.result.latencyMs ?? performance.now() - started).toFixed(3)),
      input_tokens: completion?.inputTokens ?? 0,
      output_tokens: completion?.outputTokens ?? 0,
      // What this run spent: a cache hit or a coalesced answer cost nothing.
      cost:
        served && completion && providerCall
          ? costOf(served.provider, completion.inputTokens, completion.outputTokens)
          : 0,
      error: failure ? { code: failure.code, message: failure.message } : null,
      created_at: now.toISOString(),
    };
    const event = LlmRunCompleted.schema.parse({
      version: 1,
      org_id: scope.orgId,
      run_id: run.id,
      experiment_id: id,
      unit_id: run.unit_id,
      variant: run.variant,
      served_by: run.served_by,
      provider_id: run.provider_id,
      model: run.model,
      source: run.source,
      cache_hit: run.cache_hit,
      fallback: run.fallback,
      latency_ms: run.latency_ms,
      input_tokens: run.input_tokens,
      output_tokens: run.output_tokens,
      cost: run.cost,
      error: run.error,
      output: run.output,
      occurred_at: run.created_at,
    });
    await this.recorder.record(scope, { ...run, created_at: now }, event);
    if (!served && failure) throw new RpcError('unavailable', `run ${run.id} failed: ${failure.message}`);
    return run;
  }

  /** Stores a unit's outcome under the variant the unit is assigned to (409 unless running or paused). */
  async recordOutcome(scope: TenantScope, id: string, body: OutcomeBody): Promise<OutcomeAccepted> {
    const experiment = await this.get(scope, id);
    if (experiment.status !== 'running' && experiment.status !== 'paused')
      throw new RpcError(
        'conflict',
        `experiment ${id} is ${experiment.status}: outcomes are taken while running or paused`,
      );
    const metric = [experiment.primary_metric, ...experiment.guardrail_metrics].find(
      (m) => m.name === body.metric,
    );
    if (!metric)
      throw new RpcError('validation_failed', `metric ${body.metric} is not a metric of experiment ${id}`, [
        { field: 'metric', message: 'must be the primary metric or a guardrail metric' },
      ]);
    if (metric.kind === 'proportion' && body.value !== 0 && body.value !== 1)
      throw new RpcError('validation_failed', `metric ${body.metric} is a proportion: value must be 0 or 1`, [
        { field: 'value', message: 'must be 0 or 1' },
      ]);
    const variant = assignVariant(
      experiment.seed,
      body.unit_id,
      experiment.variants.filter((v) => v.weight > 0),
    );
    await this.experiments.upsertOutcome(scope, {
      experimentId: id,
      unitId: body.unit_id,
      metric: body.metric,
      variant: variant.key,
      value: body.value,
    });
    return {
      experiment_id: id,
      unit_id: body.unit_id,
      metric: body.metric,
      variant: variant.key,
      value: body.value,
    };
  }

  async results(scope: TenantScope, id: string): Promise<ExperimentResults> {
    const experiment = await this.get(scope, id);
    await this.runs.settled(scope.orgId);
    const metrics = [experiment.primary_metric, ...experiment.guardrail_metrics];
    const [runs, outcomes] = await Promise.all([
      this.experiments.runAggregates(scope, id),
      this.experiments.outcomeAggregates(scope, id, metrics),
    ]);
    return computeResults(experiment, runs, outcomes);
  }

  private async checkProviders(scope: TenantScope, variants: readonly Variant[]): Promise<void> {
    const ids = [...new Set(variants.map((v) => v.provider_id))];
    const found = new Set((await this.providers.getMany(scope, ids)).map((p) => p.id));
    const missing = variants.flatMap((v, i) => (found.has(v.provider_id) ? [] : [{ i, id: v.provider_id }]));
    if (missing.length)
      throw new RpcError(
        'validation_failed',
        `unknown provider${missing.length > 1 ? 's' : ''}: ${[...new Set(missing.map((m) => m.id))].join(', ')}`,
        missing.map((m) => ({
          field: `variants.${m.i}.provider_id`,
          message: 'no such provider in this org',
        })),
      );
  }
}
