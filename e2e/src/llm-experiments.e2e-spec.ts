import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { LlmRunCompleted } from '@conduit/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestStack } from './support/stack.js';

const org = `e2e-llm-${randomUUID().slice(0, 8)}`;
const API_KEY = `sk-e2e-${randomUUID()}`;

/** An OpenAI-compatible endpoint: answers `answer:<prompt>`, or 500 while `failing`; counts calls. */
class FakeProvider {
  calls = 0;
  failing = false;
  authorization: string | undefined;
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.calls++;
      this.authorization = req.headers['authorization'];
      if (this.failing) {
        res.writeHead(500).end('{"error":{"message":"down"}}');
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { messages: { content: string }[] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          choices: [{ message: { role: 'assistant', content: `answer:${body.messages[0]?.content}` } }],
          usage: { prompt_tokens: 10, completion_tokens: 5 },
        }),
      );
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function api(stack: TestStack, path: string, init: RequestInit = {}) {
  const res = await fetch(`${stack.gatewayUrl}${path}`, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(await stack.authHeaders(org)),
      ...(init.headers ?? {}),
    },
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
const post = (stack: TestStack, path: string, body: unknown) =>
  api(stack, path, { method: 'POST', body: JSON.stringify(body) });
const patch = (stack: TestStack, path: string, body: unknown) =>
  api(stack, path, { method: 'PATCH', body: JSON.stringify(body) });

describe('LLM experiments through the gateway', () => {
  const fake = new FakeProvider();
  let stack: TestStack;
  let baseUrl: string;

  beforeAll(async () => {
    baseUrl = await fake.start();
    stack = await TestStack.start({
      services: ['llm-experiments', 'gateway'],
      env: {
        LLM_E2E_API_KEY: API_KEY,
        LLM_RETRY_BASE_MS: '10',
        LLM_BREAKER_VOLUME: '3',
        LLM_BREAKER_RESET_MS: '60000',
      },
    });
  });

  afterAll(async () => {
    await stack?.[Symbol.asyncDispose]();
    await fake.close();
  });

  it('registers providers without ever returning a key, and refuses a duplicate', async () => {
    const created = await post(stack, '/api/v1/providers', {
      id: 'fake',
      kind: 'openai',
      name: 'fake openai',
      base_url: baseUrl,
      api_key_env: 'LLM_E2E_API_KEY',
      default_model: 'fake-model',
      timeout_ms: 2000,
      max_retries: 1,
      cost_per_1k_input: 1,
      cost_per_1k_output: 2,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'fake', kind: 'openai', api_key_env: 'LLM_E2E_API_KEY' });
    expect(JSON.stringify(created.body)).not.toContain(API_KEY);
    expect(
      (await post(stack, '/api/v1/providers', { id: 'local', kind: 'local', name: 'local' })).status,
    ).toBe(201);
    expect(
      (await post(stack, '/api/v1/providers', { id: 'local', kind: 'local', name: 'again' })).status,
    ).toBe(409);
    const bad = await post(stack, '/api/v1/providers', { id: 'x', kind: 'openai', name: 'no url' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('base_url');
  });

  it('runs an experiment end to end: assignment, cache, outcomes, results with a verdict', async () => {
    const created = await post(stack, '/api/v1/experiments', {
      name: 'tone',
      seed: 'e2e-tone-fixed-seed', // a fixed split: the verdict does not depend on a random id
      variants: [
        { key: 'control', provider_id: 'fake', prompt: 'Reply politely to {{msg}}', weight: 1 },
        {
          key: 'b',
          provider_id: 'fake',
          prompt: 'Reply warmly to {{msg}}',
          params: { temperature: 0.2 },
          weight: 1,
        },
      ],
      primary_metric: { name: 'thumbs_up', kind: 'proportion' },
      guardrails: { max_error_rate: 0.5 },
      min_samples: 20,
    });
    expect(created.status).toBe(201);
    const id = created.body['id'] as string;
    expect(created.body).toMatchObject({ status: 'draft', control: 'control' });

    // Runs are refused until it runs.
    expect(
      (await post(stack, `/api/v1/experiments/${id}/run`, { unit_id: 'u1', variables: { msg: 'hi' } }))
        .status,
    ).toBe(409);
    expect((await patch(stack, `/api/v1/experiments/${id}`, { status: 'running' })).body['status']).toBe(
      'running',
    );
    // Variants are frozen while running.
    const frozen = await patch(stack, `/api/v1/experiments/${id}`, {
      variants: [
        { key: 'control', provider_id: 'fake', prompt: 'x', weight: 1 },
        { key: 'b', provider_id: 'fake', prompt: 'y', weight: 1 },
      ],
    });
    expect(frozen.status).toBe(409);

    const callsBefore = fake.calls;
    const first = await post(stack, `/api/v1/experiments/${id}/run`, {
      unit_id: 'u1',
      variables: { msg: 'hi' },
    });
    expect(first.status).toBe(200);
    // Its event goes out through the outbox, after the run committed, in the public schema.
    const nc = await connect({ servers: stack.natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      const deadline = Date.now() + 10_000;
      let event: unknown;
      while (event === undefined && Date.now() < deadline) {
        event = await jsm.streams.getMessage('LLM', { last_by_subj: LlmRunCompleted.subject(org) }).then(
          (m) => m?.json<unknown>(),
          () => undefined,
        );
        if (event === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      expect(LlmRunCompleted.schema.parse(event)).toMatchObject({
        run_id: first.body['id'],
        experiment_id: id,
      });
    } finally {
      await nc.close();
    }
    // Definitions are cached on the run path: a pause still refuses the very next run.
    expect((await patch(stack, `/api/v1/experiments/${id}`, { status: 'paused' })).body['status']).toBe(
      'paused',
    );
    expect(
      (await post(stack, `/api/v1/experiments/${id}/run`, { unit_id: 'u1', variables: { msg: 'hi' } }))
        .status,
    ).toBe(409);
    expect((await patch(stack, `/api/v1/experiments/${id}`, { status: 'running' })).body['status']).toBe(
      'running',
    );
    expect(first.body).toMatchObject({
      unit_id: 'u1',
      source: 'provider',
      cache_hit: false,
      input_tokens: 10,
    });
    expect(first.body['cost']).toBeCloseTo((10 * 1 + 5 * 2) / 1000, 10);
    expect(fake.authorization).toBe(`Bearer ${API_KEY}`);
    const repeat = await post(stack, `/api/v1/experiments/${id}/run`, {
      unit_id: 'u1',
      variables: { msg: 'hi' },
    });
    expect(repeat.body).toMatchObject({
      variant: first.body['variant'],
      source: 'cache',
      cache_hit: true,
      cost: 0,
    });
    expect(fake.calls).toBe(callsBefore + 1);

    // A missing template variable is a 400 naming it.
    const missing = await post(stack, `/api/v1/experiments/${id}/run`, { unit_id: 'u2', variables: {} });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('variables.msg');

    // 100 units; b converts far more often than control (90 % vs 10 %).
    const variants = new Map<string, string>();
    for (let i = 0; i < 100; i++) {
      const unit = `unit-${i}`;
      const run = await post(stack, `/api/v1/experiments/${id}/run`, {
        unit_id: unit,
        variables: { msg: `m${i}` },
      });
      expect(run.status).toBe(200);
      variants.set(unit, run.body['variant'] as string);
      const value = run.body['variant'] === 'b' ? (i % 10 < 9 ? 1 : 0) : i % 10 < 1 ? 1 : 0;
      const outcome = await post(stack, `/api/v1/experiments/${id}/outcomes`, {
        unit_id: unit,
        metric: 'thumbs_up',
        value,
      });
      expect(outcome.status).toBe(201);
      expect(outcome.body['variant']).toBe(run.body['variant']); // sticky
    }
    expect(new Set(variants.values())).toEqual(new Set(['control', 'b']));
    expect(
      (await post(stack, `/api/v1/experiments/${id}/outcomes`, { unit_id: 'u1', metric: 'nope', value: 1 }))
        .status,
    ).toBe(400);
    expect(
      (
        await post(stack, `/api/v1/experiments/${id}/outcomes`, {
          unit_id: 'u1',
          metric: 'thumbs_up',
          value: 3,
        })
      ).status,
    ).toBe(400);

    const results = await api(stack, `/api/v1/experiments/${id}/results`);
    expect(results.status).toBe(200);
    const byKey = new Map(
      (results.body['variants'] as { key: string; [k: string]: unknown }[]).map((v) => [v.key, v]),
    );
    const control: Record<string, unknown> = byKey.get('control') ?? {};
    const b: Record<string, unknown> = byKey.get('b') ?? {};
    expect((control['cache_hits'] as number) + (b['cache_hits'] as number)).toBe(1);
    expect(control['latency_p95_ms']).not.toBeNull();
    expect((results.body['sample_ratio'] as { mismatch: boolean }).mismatch).toBe(false);
    const metric = (b['metrics'] as { vs_control: { test: string; p_value: number } }[])[0] as {
      vs_control: { test: string; p_value: number };
    };
    expect(metric.vs_control.test).toBe('two_proportion_z');
    expect(metric.vs_control.p_value).toBeLessThan(0.001);
    expect(results.body['verdict'], JSON.stringify(results.body)).toMatchObject({ status: 'better' });
    expect((results.body['verdict'] as { summary: string }).summary).toMatch(
      /^variant b better on thumbs_up/,
    );
  });

  it('fails fast with a clear error when the provider is down, and uses the fallback variant', async () => {
    // A provider of its own: its breaker's window holds none of the earlier successes.
    const flaky = await post(stack, '/api/v1/providers', {
      id: 'flaky',
      kind: 'openai',
      name: 'flaky',
      base_url: baseUrl,
      max_retries: 1,
      timeout_ms: 2000,
    });
    expect(flaky.status).toBe(201);
    const created = await post(stack, '/api/v1/experiments', {
      name: 'fallback',
      variants: [
        { key: 'control', provider_id: 'local', prompt: 'local {{q}}', weight: 0 },
        { key: 'remote', provider_id: 'flaky', prompt: 'remote {{q}}', weight: 1 },
      ],
      fallback_variant: 'control',
      primary_metric: { name: 'score', kind: 'mean' },
    });
    const id = created.body['id'] as string;
    await patch(stack, `/api/v1/experiments/${id}`, { status: 'running' });
    fake.failing = true;
    try {
      // Each run makes max_retries + 1 = 2 attempts; the breaker opens after 3 failures (volume 3).
      const codes: string[] = [];
      for (let i = 0; i < 5 && codes.at(-1) !== 'breaker_open'; i++) {
        const run = await post(stack, `/api/v1/experiments/${id}/run`, {
          unit_id: `f${i}`,
          variables: { q: `${i}` },
        });
        expect(run.status).toBe(200);
        expect(run.body).toMatchObject({ variant: 'remote', served_by: 'control', fallback: true });
        expect(run.body['output']).toContain('[local provider');
        codes.push((run.body['error'] as { code: string }).code);
      }
      expect(codes[0]).toBe('provider_unavailable');
      expect(codes.at(-1)).toBe('breaker_open');
      const calls = fake.calls;
      const open = await post(stack, `/api/v1/experiments/${id}/run`, {
        unit_id: 'f9',
        variables: { q: '9' },
      });
      expect(open.body).toMatchObject({ fallback: true, error: { code: 'breaker_open' } });
      expect((open.body['error'] as { message: string }).message).toContain('circuit breaker is open');
      expect(fake.calls).toBe(calls); // the open breaker did not let the call through

      // Without a fallback, the same failure is a 503 with the reason.
      const bare = await post(stack, '/api/v1/experiments', {
        name: 'no fallback',
        variants: [
          { key: 'control', provider_id: 'flaky', prompt: 'a {{q}}', weight: 1 },
          { key: 'b', provider_id: 'flaky', prompt: 'b {{q}}', weight: 1 },
        ],
        primary_metric: { name: 'score', kind: 'mean' },
      });
      await patch(stack, `/api/v1/experiments/${bare.body['id'] as string}`, { status: 'running' });
      const failed = await post(stack, `/api/v1/experiments/${bare.body['id'] as string}/run`, {
        unit_id: 'x',
        variables: { q: '1' },
      });
      expect(failed.status).toBe(503);
      expect(JSON.stringify(failed.body)).toContain('circuit breaker is open');

      const results = await api(stack, `/api/v1/experiments/${id}/results`);
      const remote =
        (results.body['variants'] as { key: string; [k: string]: unknown }[]).find(
          (v) => v.key === 'remote',
        ) ?? ({} as Record<string, unknown>);
      expect(remote['fallbacks']).toBe(codes.length + 1);
      expect(remote['latency_p95_ms']).toBeNull(); // fallback answers are kept out of latency
      expect(remote['error_rate']).toBe(1);
    } finally {
      fake.failing = false;
    }
  });

  it('is scoped by org: another org sees none of these experiments', async () => {
    const other = await fetch(`${stack.gatewayUrl}/api/v1/experiments`, {
      headers: await stack.authHeaders(`${org}-other`),
    });
    expect(((await other.json()) as { data: unknown[] }).data).toEqual([]);
  });
});
