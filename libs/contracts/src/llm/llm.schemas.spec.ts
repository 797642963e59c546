import { describe, expect, it } from 'vitest';
import {
  createExperimentBodySchema,
  createProviderBodySchema,
  updateExperimentBodySchema,
} from './llm.schemas.js';

const variants = [
  { key: 'control', provider_id: 'p', prompt: 'x', weight: 1 },
  { key: 'b', provider_id: 'p', prompt: 'y', weight: 1 },
];

describe('llm schemas', () => {
  it('an update carries only the fields sent (no defaults sneak in and overwrite)', () => {
    expect(updateExperimentBodySchema.parse({ status: 'running' })).toEqual({ status: 'running' });
  });

  it('a create fills defaults', () => {
    const sut = createExperimentBodySchema.parse({
      name: 'e',
      variants,
      primary_metric: { name: 'm', kind: 'mean' },
    });
    expect(sut).toMatchObject({ min_samples: 100, guardrail_metrics: [], guardrails: {} });
  });

  it('refuses a control or fallback that is not a variant, and duplicate keys', () => {
    const base = { name: 'e', variants, primary_metric: { name: 'm', kind: 'mean' } };
    expect(createExperimentBodySchema.safeParse({ ...base, control: 'zzz' }).success).toBe(false);
    expect(createExperimentBodySchema.safeParse({ ...base, fallback_variant: 'zzz' }).success).toBe(false);
    expect(
      createExperimentBodySchema.safeParse({ ...base, variants: [variants[0], variants[0]] }).success,
    ).toBe(false);
  });

  it('an openai provider needs a base_url without credentials; keys go by variable name only', () => {
    expect(createProviderBodySchema.safeParse({ id: 'p', kind: 'openai', name: 'n' }).success).toBe(false);
    expect(
      createProviderBodySchema.safeParse({
        id: 'p',
        kind: 'openai',
        name: 'n',
        base_url: 'https://u:k@x.test/v1',
      }).success,
    ).toBe(false);
    expect(
      createProviderBodySchema.safeParse({
        id: 'p',
        kind: 'openai',
        name: 'n',
        base_url: 'https://x.test/v1',
        api_key_env: 'sk-123',
      }).success,
    ).toBe(false);
    expect(createProviderBodySchema.parse({ id: 'p', kind: 'local', name: 'n' })).toMatchObject({
      max_retries: 2,
    });
  });

  it('variant params may not override model or messages', () => {
    const bad = [{ ...variants[0], params: { model: 'other' } }, variants[1]];
    expect(
      createExperimentBodySchema.safeParse({
        name: 'e',
        variants: bad,
        primary_metric: { name: 'm', kind: 'mean' },
      }).success,
    ).toBe(false);
  });
});
