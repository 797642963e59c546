import { z } from 'zod';
import { defineRequest } from '../core/contract.js';
import { orgIdSchema } from '../device/device.schemas.js';
import {
  createExperimentBodySchema,
  createProviderBodySchema,
  experimentIdSchema,
  experimentPageSchema,
  experimentResultsSchema,
  experimentSchema,
  outcomeAcceptedSchema,
  outcomeBodySchema,
  providerIdSchema,
  providerSchema,
  runBodySchema,
  runSchema,
  updateExperimentBodySchema,
  updateProviderBodySchema,
} from './llm.schemas.js';

const QUEUE = 'llm-experiments';

// WARNING: subjects are wire names; gateway and llm-experiments replicas of different versions
// must agree on them during a rolling deploy.

export const LlmRequests = {
  createProvider: defineRequest({
    subject: 'svc.llm.providers.create',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, provider: createProviderBodySchema }),
    response: providerSchema,
  }),
  listProviders: defineRequest({
    subject: 'svc.llm.providers.list',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema }),
    response: z.object({ data: z.array(providerSchema) }),
  }),
  getProvider: defineRequest({
    subject: 'svc.llm.providers.get',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: providerIdSchema }),
    response: providerSchema,
  }),
  updateProvider: defineRequest({
    subject: 'svc.llm.providers.update',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: providerIdSchema, changes: updateProviderBodySchema }),
    response: providerSchema,
  }),
  deleteProvider: defineRequest({
    subject: 'svc.llm.providers.delete',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: providerIdSchema }),
    response: z.object({ deleted: z.literal(true) }),
  }),
  createExperiment: defineRequest({
    subject: 'svc.llm.experiments.create',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, experiment: createExperimentBodySchema }),
    response: experimentSchema,
  }),
  listExperiments: defineRequest({
    subject: 'svc.llm.experiments.list',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema }),
    response: experimentPageSchema,
  }),
  getExperiment: defineRequest({
    subject: 'svc.llm.experiments.get',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: experimentIdSchema }),
    response: experimentSchema,
  }),
  updateExperiment: defineRequest({
    subject: 'svc.llm.experiments.update',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: experimentIdSchema, changes: updateExperimentBodySchema }),
    response: experimentSchema,
  }),
  deleteExperiment: defineRequest({
    subject: 'svc.llm.experiments.delete',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: experimentIdSchema }),
    response: z.object({ deleted: z.literal(true) }),
  }),
  /** Assigns the unit, calls its variant's provider (cache, breaker, retries) and records the run. */
  run: defineRequest({
    subject: 'svc.llm.experiments.run',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: experimentIdSchema, run: runBodySchema }),
    response: runSchema,
  }),
  recordOutcome: defineRequest({
    subject: 'svc.llm.experiments.outcome',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: experimentIdSchema, outcome: outcomeBodySchema }),
    response: outcomeAcceptedSchema,
  }),
  results: defineRequest({
    subject: 'svc.llm.experiments.results',
    queue: QUEUE,
    request: z.object({ org_id: orgIdSchema, id: experimentIdSchema }),
    response: experimentResultsSchema,
  }),
} as const;
