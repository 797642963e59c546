import { envInt, loadConfig, type ServiceConfigDefinition } from '@conduit/config';
import { LlmRunCompleted } from '@conduit/contracts';

const schema = {
  /** How long a provider answer is reused for an identical (provider, model, prompt, params). */
  LLM_CACHE_TTL_MS: envInt(0, 30 * 86_400_000),
  /** L1 (in-process) bound of the response cache, in bytes. */
  LLM_CACHE_L1_MAX_BYTES: envInt(1_048_576, 4_294_967_296),
  /** First retry back-off of a provider call; doubles per retry (equal jitter). */
  LLM_RETRY_BASE_MS: envInt(1, 60_000),
  /** Cap of one back-off and of a `Retry-After` worth waiting for (longer: fail at once). */
  LLM_RETRY_MAX_DELAY_MS: envInt(1, 300_000),
  /** Provider breakers (one per org and provider): when they open and how long they stay open. */
  LLM_BREAKER_ERROR_PERCENT: envInt(1, 100),
  LLM_BREAKER_VOLUME: envInt(1, 10_000),
  LLM_BREAKER_RESET_MS: envInt(10, 600_000),
  LLM_BREAKER_WINDOW_MS: envInt(100, 3_600_000),
  LLM_BREAKER_HALF_OPEN_CALLS: envInt(1, 100),
  /** Longest provider answer read, in bytes (longer fails the attempt). */
  LLM_MAX_RESPONSE_BYTES: envInt(1_024, 64 * 1_048_576),
  /** The runs consumer (stream → experiments.runs): rows per insert, and the longest a run waits for one. */
  LLM_RUNS_BATCH: envInt(1, 10_000),
  LLM_RUNS_BATCH_WAIT_MS: envInt(0, 10_000),
  /** How long results wait for the runs answered so far to be stored before reading them. */
  LLM_RESULTS_SETTLE_MS: envInt(0, 60_000),
};

const defaults = {
  HTTP_PORT: '3004',
  LLM_CACHE_TTL_MS: '3600000',
  LLM_CACHE_L1_MAX_BYTES: '67108864',
  LLM_RETRY_BASE_MS: '200',
  LLM_RETRY_MAX_DELAY_MS: '10000',
  LLM_BREAKER_ERROR_PERCENT: '50',
  LLM_BREAKER_VOLUME: '5',
  LLM_BREAKER_RESET_MS: '10000',
  LLM_BREAKER_WINDOW_MS: '10000',
  LLM_BREAKER_HALF_OPEN_CALLS: '1',
  LLM_MAX_RESPONSE_BYTES: '4194304',
  LLM_RUNS_BATCH: '500',
  LLM_RUNS_BATCH_WAIT_MS: '20',
  LLM_RESULTS_SETTLE_MS: '2000',
};

export const llmExperimentsConfigDefinition = {
  serviceName: 'llm-experiments',
  schema,
  presets: { production: defaults, development: defaults, test: defaults },
  map: (env) => ({
    cache: { ttlMs: env.LLM_CACHE_TTL_MS, l1MaxBytes: env.LLM_CACHE_L1_MAX_BYTES },
    retry: { baseDelayMs: env.LLM_RETRY_BASE_MS, maxDelayMs: env.LLM_RETRY_MAX_DELAY_MS },
    breaker: {
      errorThresholdPercentage: env.LLM_BREAKER_ERROR_PERCENT,
      volumeThreshold: env.LLM_BREAKER_VOLUME,
      resetTimeoutMs: env.LLM_BREAKER_RESET_MS,
      rollingCountTimeoutMs: env.LLM_BREAKER_WINDOW_MS,
      halfOpenMaxCalls: env.LLM_BREAKER_HALF_OPEN_CALLS,
    },
    maxResponseBytes: env.LLM_MAX_RESPONSE_BYTES,
    runs: {
      durable: 'llm-experiments-runs',
      filterSubject: LlmRunCompleted.filter,
      batchMessages: env.LLM_RUNS_BATCH,
      batchWaitMs: env.LLM_RUNS_BATCH_WAIT_MS,
      settleTimeoutMs: env.LLM_RESULTS_SETTLE_MS,
    },
  }),
} satisfies ServiceConfigDefinition<typeof schema, unknown>;

export type LlmExperimentsConfig = ReturnType<typeof loadLlmExperimentsConfig>;

/** The `service` part of the config: what the features read. */
export type LlmServiceSettings = LlmExperimentsConfig['service'];

/** Validates the environment once at boot; throws ConfigError naming every bad variable. */
export const loadLlmExperimentsConfig = (env: NodeJS.ProcessEnv = process.env) =>
  loadConfig(llmExperimentsConfigDefinition, env);
