import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type {
  Experiment,
  ExperimentStatus,
  LlmRunCompleted,
  Metric,
  ParsedPayloadOf,
  Run,
} from '@conduit/contracts';
import { rawPool, type TenantScope } from '@conduit/database';
import type { OutboxEvent } from '@conduit/runtime';

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** An experiment row as its wire JSON (`experimentSchema`), built by Postgres. */
const EXPERIMENT_JSON = `json_build_object('id', id, 'org_id', org_id, 'name', name, 'status', status,
  'seed', seed, 'variants', variants, 'control', control, 'fallback_variant', fallback_variant,
  'primary_metric', primary_metric, 'guardrail_metrics', guardrail_metrics, 'guardrails', guardrails,
  'min_samples', min_samples, 'created_at', ${iso('created_at')}, 'updated_at', ${iso('updated_at')},
  'started_at', ${iso('started_at')}, 'completed_at', ${iso('completed_at')})`;

/** Fields written on create (and, while draft, on update). */
export type ExperimentRow = Omit<
  Experiment,
  'org_id' | 'created_at' | 'updated_at' | 'started_at' | 'completed_at'
>;

/** The body of an `llm.<org>.run.completed` event: a run's record. */
export type LlmRunCompletedPayload = ParsedPayloadOf<typeof LlmRunCompleted>;

/** A run to store (the wire run without its derived `cache_hit`). */
export type RunRow = Omit<Run, 'cache_hit' | 'created_at'> & { readonly created_at: Date };

/** Per-variant run aggregates of an experiment. */
export interface RunAggregate {
  readonly variant: string;
  readonly units: number;
  readonly runs: number;
  readonly providerCalls: number;
  readonly cacheHits: number;
  readonly coalesced: number;
  readonly fallbacks: number;
  readonly errors: number;
  readonly latencyP50: number | null;
  readonly latencyP95: number | null;
  readonly costPerRun: number | null;
  readonly totalCost: number;
}

/** Per-variant summary of one metric: n, mean, sample variance, sum. */
export interface OutcomeAggregate {
  readonly variant: string;
  readonly metric: string;
  readonly n: number;
  readonly mean: number;
  readonly variance: number | null;
  readonly sum: number;
}

/** Experiments, their runs and outcomes (schema `experiments`). Every method takes the org. */
@Injectable()
export class ExperimentsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get pool() {
    return rawPool(this.dataSource);
  }

  async create(scope: TenantScope, e: ExperimentRow): Promise<Experiment> {
    const { rows } = await this.pool.query<{ e: Experiment }>(
      `INSERT INTO experiments.experiments (org_id, id, name, status, seed, variants, control, fallback_variant,
              primary_metric, guardrail_metrics, guardrails, min_samples)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${EXPERIMENT_JSON} AS e`,
      [
        scope.orgId,
        e.id,
        e.name,
        e.status,
        e.seed,
        JSON.stringify(e.variants),
        e.control,
        e.fallback_variant,
        JSON.stringify(e.primary_metric),
        JSON.stringify(e.guardrail_metrics),
        JSON.stringify(e.guardrails),
        e.min_samples,
      ],
    );
    return (rows[0] as { e: Experiment }).e;
  }

  async list(scope: TenantScope): Promise<Experiment[]> {
    const { rows } = await this.pool.query<{ e: Experiment }>(
      `SELECT ${EXPERIMENT_JSON} AS e FROM experiments.experiments WHERE org_id = $1
        ORDER BY created_at DESC, id LIMIT 500`,
      [scope.orgId],
    );
    return rows.map((r) => r.e);
  }

  async get(scope: TenantScope, id: string): Promise<Experiment | null> {
    const { rows } = await this.pool.query<{ e: Experiment }>(
      `SELECT ${EXPERIMENT_JSON} AS e FROM experiments.experiments WHERE org_id = $1 AND id = $2`,
      [scope.orgId, id],
    );
    return rows[0]?.e ?? null;
  }

  /**
   * Writes the new state of an experiment if its status is still `expectedStatus` (optimistic:
   * two concurrent changes cannot both win). Null when the row is gone or its status moved.
   */
  async update(
    scope: TenantScope,
    next: Experiment,
    expectedStatus: ExperimentStatus,
  ): Promise<Experiment | null> {
    const { rows } = await this.pool.query<{ e: Experiment }>(
      `UPDATE experiments.experiments SET name = $4, status = $5, variants = $6, control = $7,
              fallback_variant = $8, primary_metric = $9, guardrail_metrics = $10, guardrails = $11,
              min_samples = $12, updated_at = now(),
              started_at = CASE WHEN $5 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
              completed_at = CASE WHEN $5 = 'completed' THEN now() ELSE completed_at END
        WHERE org_id = $1 AND id = $2 AND status = $3 RETURNING ${EXPERIMENT_JSON} AS e`,
      [
        scope.orgId,
        next.id,
        expectedStatus,
        next.name,
        next.status,
        JSON.stringify(next.variants),
        next.control,
        next.fallback_variant,
        JSON.stringify(next.primary_metric),
        JSON.stringify(next.guardrail_metrics),
        JSON.stringify(next.guardrails),
        next.min_samples,
      ],
    );
    return rows[0]?.e ?? null;
  }

  /** Deletes the experiment with its runs and outcomes. */
  async delete(scope: TenantScope, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM experiments.experiments WHERE org_id = $1 AND id = $2`,
      [scope.orgId, id],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Stores a run and, in the same statement, its event in the outbox; returns the outbox row (for
   * `OutboxService.relayCommitted`).
   */
  async insertRun(
    scope: TenantScope,
    run: RunRow,
    event: { readonly subject: string; readonly msgId: string; readonly payload: unknown },
  ): Promise<OutboxEvent> {
    const { rows } = await this.pool.query<{ id: string }>(
      `WITH r AS (
         INSERT INTO experiments.runs (id, org_id, experiment_id, unit_id, variant, served_by, provider_id, model,
                source, fallback, latency_ms, input_tokens, output_tokens, cost, error_code, error_message, output,
                created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
       )
       INSERT INTO experiments.outbox (subject, msg_id, payload) VALUES ($19, $20, $21) RETURNING id`,
      [
        run.id,
        scope.orgId,
        run.experiment_id,
        run.unit_id,
        run.variant,
        run.served_by,
        run.provider_id,
        run.model,
        run.source,
        run.fallback,
        run.latency_ms,
        run.input_tokens,
        run.output_tokens,
        run.cost,
        run.error?.code ?? null,
        run.error?.message ?? null,
        run.output,
        run.created_at,
        event.subject,
        event.msgId,
        JSON.stringify(event.payload),
      ],
    );
    return { id: (rows[0] as { id: string }).id, ...event };
  }

  /**
   * Stores runs from their `llm.<org>.run.completed` events in one statement: a run already
   * stored (a redelivery, or one recorded through the outbox) is skipped, and so is a run of an
   * experiment deleted since. Returns how many rows were inserted.
   */
  async insertRunEvents(events: readonly LlmRunCompletedPayload[]): Promise<number> {
    if (events.length === 0) return 0;
    const column = <T>(pick: (e: LlmRunCompletedPayload) => T) => events.map(pick);
    const { rowCount } = await this.pool.query(
      `INSERT INTO experiments.runs (id, org_id, experiment_id, unit_id, variant, served_by, provider_id, model,
              source, fallback, latency_ms, input_tokens, output_tokens, cost, error_code, error_message, output,
              created_at)
       SELECT u.* FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
              $8::text[], $9::text[], $10::boolean[], $11::float8[], $12::int[], $13::int[], $14::float8[],
              $15::text[], $16::text[], $17::text[], $18::timestamptz[])
           AS u(id, org_id, experiment_id, unit_id, variant, served_by, provider_id, model, source, fallback,
                latency_ms, input_tokens, output_tokens, cost, error_code, error_message, output, created_at)
        WHERE EXISTS (SELECT 1 FROM experiments.experiments e WHERE e.org_id = u.org_id AND e.id = u.experiment_id)
       ON CONFLICT (id) DO NOTHING`,
      [
        column((e) => e.run_id),
        column((e) => e.org_id),
        column((e) => e.experiment_id),
        column((e) => e.unit_id),
        column((e) => e.variant),
        column((e) => e.served_by),
        column((e) => e.provider_id),
        column((e) => e.model),
        column((e) => e.source),
        column((e) => e.fallback),
        column((e) => e.latency_ms),
        column((e) => e.input_tokens),
        column((e) => e.output_tokens),
        column((e) => e.cost),
        column((e) => e.error?.code ?? null),
        column((e) => e.error?.message ?? null),
        column((e) => e.output ?? null),
        column((e) => e.occurred_at),
      ],
    );
    return rowCount ?? 0;
  }

  /** Stores a unit's value of a metric; a later value for the same unit and metric replaces it. */
  async upsertOutcome(
    scope: TenantScope,
    o: { experimentId: string; unitId: string; metric: string; variant: string; value: number },
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO experiments.outcomes (org_id, experiment_id, unit_id, metric, variant, value)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (org_id, experiment_id, metric, unit_id)
       DO UPDATE SET value = excluded.value, variant = excluded.variant, updated_at = now()`,
      [scope.orgId, o.experimentId, o.unitId, o.metric, o.variant, o.value],
    );
  }

  /**
   * Run figures per variant. Latency and cost come only from answers the variant's own provider
   * gave in this run (`source = 'provider'`, not a fallback, no error): cache hits, coalesced
   * calls and fallback answers would bias them.
   */
  async runAggregates(scope: TenantScope, experimentId: string): Promise<RunAggregate[]> {
    const { rows } = await this.pool.query<Record<string, string | number | null>>(
      `SELECT variant,
              count(DISTINCT unit_id)::int AS units,
              count(*)::int AS runs,
              count(*) FILTER (WHERE source = 'provider' AND NOT fallback AND error_code IS NULL)::int AS provider_calls,
              count(*) FILTER (WHERE source = 'cache')::int AS cache_hits,
              count(*) FILTER (WHERE source = 'coalesced')::int AS coalesced,
              count(*) FILTER (WHERE fallback)::int AS fallbacks,
              count(*) FILTER (WHERE error_code IS NOT NULL)::int AS errors,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)
                FILTER (WHERE source = 'provider' AND NOT fallback AND error_code IS NULL) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
                FILTER (WHERE source = 'provider' AND NOT fallback AND error_code IS NULL) AS p95,
              avg(cost) FILTER (WHERE source = 'provider' AND NOT fallback AND error_code IS NULL) AS cost_per_run,
              coalesce(sum(cost), 0) AS total_cost
         FROM experiments.runs WHERE org_id = $1 AND experiment_id = $2 GROUP BY variant`,
      [scope.orgId, experimentId],
    );
    const num = (v: string | number | null | undefined) => (v === null || v === undefined ? null : Number(v));
    return rows.map((r) => ({
      variant: String(r['variant']),
      units: Number(r['units']),
      runs: Number(r['runs']),
      providerCalls: Number(r['provider_calls']),
      cacheHits: Number(r['cache_hits']),
      coalesced: Number(r['coalesced']),
      fallbacks: Number(r['fallbacks']),
      errors: Number(r['errors']),
      latencyP50: num(r['p50']),
      latencyP95: num(r['p95']),
      costPerRun: num(r['cost_per_run']),
      totalCost: Number(r['total_cost']),
    }));
  }

  /** n, mean, sample variance and sum of each metric per variant (one value per unit). */
  async outcomeAggregates(
    scope: TenantScope,
    experimentId: string,
    metrics: readonly Metric[],
  ): Promise<OutcomeAggregate[]> {
    const { rows } = await this.pool.query<Record<string, string | number | null>>(
      `SELECT variant, metric, count(*)::int AS n, avg(value) AS mean, var_samp(value) AS variance,
              sum(value) AS sum
         FROM experiments.outcomes WHERE org_id = $1 AND experiment_id = $2 AND metric = ANY($3::text[])
        GROUP BY variant, metric`,
      [scope.orgId, experimentId, metrics.map((m) => m.name)],
    );
    return rows.map((r) => ({
      variant: String(r['variant']),
      metric: String(r['metric']),
      n: Number(r['n']),
      mean: Number(r['mean']),
      variance: r['variance'] === null ? null : Number(r['variance']),
      sum: Number(r['sum']),
    }));
  }
}
