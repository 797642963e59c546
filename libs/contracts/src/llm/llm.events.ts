import { z } from 'zod';
import { defineEvent } from '../core/contract.js';
import { RUN_SOURCES, experimentStatusSchema } from './llm.schemas.js';

// WARNING: subjects and payload fields are wire names: external consumers bind to them.

/**
 * `llm.<orgId>.run.completed`: one run of an experiment finished (answered, answered by the
 * fallback, or failed — see `error`). This event is the run's record: llm-experiments answers a
 * run once JetStream has stored it, and keeps `experiments.runs` from the stream (durable
 * consumer `llm-experiments-runs`). `output` is the text answered (null on failure); events
 * published before it was carried have none.
 */
export const LlmRunCompleted = defineEvent({
  stream: 'LLM',
  type: 'llm.run.completed',
  version: 1,
  subject: (orgId: string) => `llm.${orgId}.run.completed`,
  filter: 'llm.*.run.completed',
  schema: z.object({
    version: z.literal(1),
    org_id: z.string(),
    run_id: z.uuid(),
    experiment_id: z.uuid(),
    unit_id: z.string(),
    variant: z.string(),
    served_by: z.string().nullable(),
    provider_id: z.string().nullable(),
    model: z.string().nullable(),
    source: z.enum(RUN_SOURCES).nullable(),
    cache_hit: z.boolean(),
    fallback: z.boolean(),
    latency_ms: z.number(),
    input_tokens: z.number().int(),
    output_tokens: z.number().int(),
    cost: z.number(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    output: z.string().nullable().optional(),
    occurred_at: z.iso.datetime({ offset: true }),
  }),
});

/** `llm.<orgId>.experiment.status_changed`: an experiment started, paused, resumed or completed. */
export const LlmExperimentStatusChanged = defineEvent({
  stream: 'LLM',
  type: 'llm.experiment.status_changed',
  version: 1,
  subject: (orgId: string) => `llm.${orgId}.experiment.status_changed`,
  filter: 'llm.*.experiment.status_changed',
  schema: z.object({
    version: z.literal(1),
    org_id: z.string(),
    experiment_id: z.uuid(),
    status: experimentStatusSchema,
    previous: experimentStatusSchema,
    occurred_at: z.iso.datetime({ offset: true }),
  }),
});
