import { z } from 'zod';
import { SUBJECT_TOKEN } from '../core/contract.js';

// WARNING: field names below are wire names (HTTP bodies, NATS payloads, stored events).

const token = z.string().regex(SUBJECT_TOKEN, 'letters, digits, _ or -, 1-128 characters');
const label = z.string().trim().min(1).max(128);
const iso = z.iso.datetime({ offset: true });

/** A provider id appears in breaker names and cache keys: a subject token. */
export const providerIdSchema = token;
/** A variant key (`control`, `b`…): a subject token. */
export const variantKeySchema = token;
export const experimentIdSchema = z.uuid();
/** The randomisation unit (a user, a session, a document): any id up to 256 characters. */
export const unitIdSchema = z.string().min(1).max(256);

/**
 * `openai`: an OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, llama.cpp's
 * server, most gateways). `local`: a deterministic answer built from the prompt, for development,
 * marked as such in every output.
 */
export const PROVIDER_KINDS = ['openai', 'local'] as const;
export const providerKindSchema = z.enum(PROVIDER_KINDS);
export type ProviderKind = z.infer<typeof providerKindSchema>;

const baseUrlSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .refine((url) => {
    const parsed = URL.parse(url);
    return !parsed || (parsed.username === '' && parsed.password === '');
  }, 'must not carry credentials (use api_key_env)')
  .refine((url) => !/[?#]/.test(url), 'must not carry a query or fragment');

/** Name of an environment variable of llm-experiments holding the API key: never the key itself. */
const envNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable');

const providerFields = {
  name: label,
  /** Root of the API, e.g. `https://api.openai.com/v1`; `/chat/completions` is appended. */
  base_url: baseUrlSchema.nullable(),
  api_key_env: envNameSchema.nullable(),
  /** Model used by variants that name none. */
  default_model: z.string().min(1).max(256),
  /** Time-out of one attempt, in milliseconds. */
  timeout_ms: z.number().int().min(10).max(300_000),
  /** Attempts after the first on 408/429/5xx/network errors (jittered back-off, `Retry-After` honoured). */
  max_retries: z.number().int().min(0).max(10),
  /** Calls in flight at once per replica; further calls wait. */
  concurrency: z.number().int().min(1).max(10_000),
  /** Price per 1 000 input (prompt) tokens, in the org's currency unit. */
  cost_per_1k_input: z.number().min(0).max(1_000),
  cost_per_1k_output: z.number().min(0).max(1_000),
};

export const providerSchema = z.object({
  id: providerIdSchema,
  org_id: token,
  kind: providerKindSchema,
  ...providerFields,
  created_at: iso,
  updated_at: iso,
});
export type Provider = z.infer<typeof providerSchema>;

/** Body of `POST /api/v1/providers`. `base_url` is required for `openai`. */
export const createProviderBodySchema = z
  .strictObject({
    id: providerIdSchema,
    kind: providerKindSchema,
    name: label,
    base_url: baseUrlSchema.optional(),
    api_key_env: envNameSchema.optional(),
    default_model: providerFields.default_model.default('local-echo'),
    timeout_ms: providerFields.timeout_ms.default(30_000),
    max_retries: providerFields.max_retries.default(2),
    concurrency: providerFields.concurrency.default(16),
    cost_per_1k_input: providerFields.cost_per_1k_input.default(0),
    cost_per_1k_output: providerFields.cost_per_1k_output.default(0),
  })
  .refine((b) => b.kind !== 'openai' || b.base_url !== undefined, {
    message: 'required for kind openai',
    path: ['base_url'],
  });
export type CreateProviderBody = z.infer<typeof createProviderBodySchema>;

/** Body of `PATCH /api/v1/providers/:id`: any field but `id` and `kind`; `null` clears a nullable one. */
export const updateProviderBodySchema = z
  .strictObject({
    name: providerFields.name.optional(),
    base_url: providerFields.base_url.optional(),
    api_key_env: providerFields.api_key_env.optional(),
    default_model: providerFields.default_model.optional(),
    timeout_ms: providerFields.timeout_ms.optional(),
    max_retries: providerFields.max_retries.optional(),
    concurrency: providerFields.concurrency.optional(),
    cost_per_1k_input: providerFields.cost_per_1k_input.optional(),
    cost_per_1k_output: providerFields.cost_per_1k_output.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'at least one field to change');
export type UpdateProviderBody = z.infer<typeof updateProviderBodySchema>;

// --- experiments -----------------------------------------------------------------------------

/** Chat-completion parameters passed to the provider as they are (`temperature`, `max_tokens`…). */
const paramsSchema = z
  .record(z.string().regex(/^[a-z_][a-z0-9_]*$/), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .refine((p) => !('model' in p) && !('messages' in p), 'model and messages are set by the variant')
  .refine((p) => JSON.stringify(p).length <= 4_096, 'at most 4 KiB of JSON');

export const variantSchema = z.strictObject({
  key: variantKeySchema,
  provider_id: providerIdSchema,
  /** Defaults to the provider's `default_model`. */
  model: z.string().min(1).max(256).optional(),
  /** The user message; `{{name}}` is replaced by the run's `variables.name`. */
  prompt: z.string().min(1).max(32_768),
  params: paramsSchema.default({}),
  /** Share of traffic, relative to the other variants' weights. */
  weight: z.number().min(0).max(1_000_000),
});
export type Variant = z.infer<typeof variantSchema>;

/** `mean`: any number (scores, ratings). `proportion`: 0 or 1 (conversions, thumbs up). */
export const METRIC_KINDS = ['mean', 'proportion'] as const;
export const metricSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'lowercase letters, digits and _, at most 64'),
  kind: z.enum(METRIC_KINDS),
  /** Which way is better. */
  direction: z.enum(['increase', 'decrease']).default('increase'),
});
export type Metric = z.infer<typeof metricSchema>;

/** Operational guardrails, checked per variant (every threshold optional). */
export const guardrailsSchema = z.strictObject({
  max_error_rate: z.number().min(0).max(1).optional(),
  max_latency_p95_ms: z.number().min(0).optional(),
  max_cost_per_run: z.number().min(0).optional(),
});
export type Guardrails = z.infer<typeof guardrailsSchema>;

export const EXPERIMENT_STATUSES = ['draft', 'running', 'paused', 'completed'] as const;
export const experimentStatusSchema = z.enum(EXPERIMENT_STATUSES);
export type ExperimentStatus = z.infer<typeof experimentStatusSchema>;

const experimentFields = {
  name: label,
  variants: z
    .array(variantSchema)
    .min(2)
    .max(10)
    .refine((v) => new Set(v.map((x) => x.key)).size === v.length, 'variant keys must be unique')
    .refine((v) => v.some((x) => x.weight > 0), 'at least one variant needs a weight above 0'),
  /** Key of the control variant; the first variant when omitted. */
  control: variantKeySchema.optional(),
  /** Variant answering when the assigned variant's provider fails or its breaker is open. */
  fallback_variant: variantKeySchema.nullable().optional(),
  primary_metric: metricSchema,
  /** Metrics that must not get significantly worse than control. */
  guardrail_metrics: z.array(metricSchema).max(10).default([]),
  guardrails: guardrailsSchema.default({}),
  /** Units per variant (with an outcome of the primary metric) before a verdict is given. */
  min_samples: z.number().int().min(2).max(10_000_000),
};

const experimentRefinements = <T extends z.ZodType<Partial<ExperimentShape>>>(schema: T) =>
  schema
    .refine((b) => !b.variants || !b.control || b.variants.some((v) => v.key === b.control), {
      message: 'must be the key of a variant',
      path: ['control'],
    })
    .refine(
      (b) => !b.variants || !b.fallback_variant || b.variants.some((v) => v.key === b.fallback_variant),
      { message: 'must be the key of a variant', path: ['fallback_variant'] },
    );

interface ExperimentShape {
  variants: Variant[];
  control: string;
  fallback_variant: string | null;
}

/** Body of `POST /api/v1/experiments`. The experiment starts as `draft`. */
export const createExperimentBodySchema = experimentRefinements(
  z.strictObject({
    ...experimentFields,
    min_samples: experimentFields.min_samples.default(100),
    /** Hash seed of the assignment; the experiment id when omitted. */
    seed: z.string().min(1).max(128).optional(),
  }),
);
export type CreateExperimentBody = z.infer<typeof createExperimentBodySchema>;

/**
 * Body of `PATCH /api/v1/experiments/:id`. `status` moves it (`draft → running ⇄ paused →
 * completed`, `draft → completed`); variants, control, fallback, metrics and seed change only
 * while `draft` (409 otherwise: a changed split would corrupt the collected data).
 */
export const updateExperimentBodySchema = experimentRefinements(
  z.strictObject({
    name: experimentFields.name.optional(),
    status: experimentStatusSchema.optional(),
    variants: experimentFields.variants.optional(),
    control: variantKeySchema.optional(),
    fallback_variant: variantKeySchema.nullable().optional(),
    primary_metric: metricSchema.optional(),
    guardrail_metrics: z.array(metricSchema).max(10).optional(),
    guardrails: guardrailsSchema.optional(),
    min_samples: experimentFields.min_samples.optional(),
  }),
).refine((b) => Object.keys(b).length > 0, 'at least one field to change');
export type UpdateExperimentBody = z.infer<typeof updateExperimentBodySchema>;

export const experimentSchema = z.object({
  id: experimentIdSchema,
  org_id: token,
  name: label,
  status: experimentStatusSchema,
  seed: z.string(),
  variants: z.array(variantSchema),
  control: variantKeySchema,
  fallback_variant: variantKeySchema.nullable(),
  primary_metric: metricSchema,
  guardrail_metrics: z.array(metricSchema),
  guardrails: guardrailsSchema,
  min_samples: z.number().int(),
  created_at: iso,
  updated_at: iso,
  started_at: iso.nullable(),
  completed_at: iso.nullable(),
});
export type Experiment = z.infer<typeof experimentSchema>;

export const experimentPageSchema = z.object({ data: z.array(experimentSchema) });

// --- runs and outcomes -----------------------------------------------------------------------

/** Body of `POST /api/v1/experiments/:id/run`. */
export const runBodySchema = z.strictObject({
  unit_id: unitIdSchema,
  variables: z
    .record(z.string(), z.union([z.string().max(32_768), z.number(), z.boolean()]))
    .refine((v) => JSON.stringify(v).length <= 65_536, 'at most 64 KiB of JSON')
    .default({}),
});
export type RunBody = z.infer<typeof runBodySchema>;

/**
 * How a run's answer was obtained. `provider`: a call to the variant's provider. `cache`: the
 * response cache (no call). `coalesced`: shared with an identical call in flight. The last two,
 * and fallback answers, are left out of latency and cost figures.
 */
export const RUN_SOURCES = ['provider', 'cache', 'coalesced'] as const;

export const runSchema = z.object({
  id: z.uuid(),
  experiment_id: experimentIdSchema,
  unit_id: unitIdSchema,
  /** The variant the unit is assigned to (always the same for a unit). */
  variant: variantKeySchema,
  /** The variant that answered: `variant`, or the fallback variant when `fallback`. */
  served_by: variantKeySchema.nullable(),
  provider_id: providerIdSchema.nullable(),
  model: z.string().nullable(),
  source: z.enum(RUN_SOURCES).nullable(),
  cache_hit: z.boolean(),
  fallback: z.boolean(),
  output: z.string().nullable(),
  latency_ms: z.number(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cost: z.number(),
  /** Why the assigned variant's provider gave no answer (a fallback may still have answered). */
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  created_at: iso,
});
export type Run = z.infer<typeof runSchema>;

/** Body of `POST /api/v1/experiments/:id/outcomes`: the latest value per unit and metric counts. */
export const outcomeBodySchema = z.strictObject({
  unit_id: unitIdSchema,
  metric: metricSchema.shape.name,
  value: z.number().finite(),
});
export type OutcomeBody = z.infer<typeof outcomeBodySchema>;

export const outcomeAcceptedSchema = z.object({
  experiment_id: experimentIdSchema,
  unit_id: unitIdSchema,
  metric: z.string(),
  variant: variantKeySchema,
  value: z.number(),
});
export type OutcomeAccepted = z.infer<typeof outcomeAcceptedSchema>;

// --- results ---------------------------------------------------------------------------------

const intervalSchema = z.object({ low: z.number(), high: z.number() });

export const metricResultSchema = z.object({
  metric: z.string(),
  kind: z.enum(METRIC_KINDS),
  n: z.number().int(),
  mean: z.number().nullable(),
  /** 95 %: t-interval of the mean, Wilson interval of a proportion. */
  ci95: intervalSchema.nullable(),
  /** Against control (absent on control): treatment − control. */
  vs_control: z
    .object({
      difference: z.number(),
      relative: z.number().nullable(),
      /** Welch's t-test (mean) or the two-proportion z-test (proportion), two-sided, fixed horizon. */
      test: z.enum(['welch_t', 'two_proportion_z']),
      statistic: z.number(),
      df: z.number().nullable(),
      p_value: z.number(),
      ci95: intervalSchema,
      /** Always-valid 95 % interval (mSPRT): safe to look at while the experiment runs. */
      sequential_ci95: intervalSchema.nullable(),
      sequential_p_value: z.number().nullable(),
      /** The sequential interval excludes 0 on the better (`better`) or worse side. */
      significant: z.enum(['better', 'worse', 'none']),
    })
    .nullable(),
});

export const variantResultSchema = z.object({
  key: variantKeySchema,
  weight: z.number(),
  is_control: z.boolean(),
  /** Distinct units that ran (the sample-ratio check counts these). */
  units: z.number().int(),
  runs: z.number().int(),
  provider_calls: z.number().int(),
  cache_hits: z.number().int(),
  coalesced: z.number().int(),
  fallbacks: z.number().int(),
  errors: z.number().int(),
  /** errors / (provider calls + errors). */
  error_rate: z.number().nullable(),
  /** Over successful provider calls only (no cache hits, coalesced or fallback answers). */
  latency_p50_ms: z.number().nullable(),
  latency_p95_ms: z.number().nullable(),
  cost_per_run: z.number().nullable(),
  total_cost: z.number(),
  metrics: z.array(metricResultSchema),
  guardrail_violations: z.array(z.string()),
});

export const VERDICTS = [
  'insufficient_data',
  'no_difference',
  'better',
  'worse',
  'guardrail_violated',
  'sample_ratio_mismatch',
] as const;

export const experimentResultsSchema = z.object({
  experiment_id: experimentIdSchema,
  status: experimentStatusSchema,
  primary_metric: z.string(),
  variants: z.array(variantResultSchema),
  sample_ratio: z.object({
    chi_square: z.number().nullable(),
    df: z.number().int().nullable(),
    p_value: z.number().nullable(),
    /** p < 0.001: the observed split does not match the weights — assignment or logging is broken. */
    mismatch: z.boolean(),
  }),
  verdict: z.object({ status: z.enum(VERDICTS), summary: z.string() }),
  computed_at: iso,
});
export type ExperimentResults = z.infer<typeof experimentResultsSchema>;
export type VariantResult = z.infer<typeof variantResultSchema>;
export type MetricResult = z.infer<typeof metricResultSchema>;
