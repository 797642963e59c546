import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BreakerRegistry } from '@conduit/breakers';
import { createCacheRedis, TwoLevelCache } from '@conduit/caching';
import type { Provider } from '@conduit/contracts';
import { OpenAiAdapter } from './openai.adapter.js';
import { ProviderCallError, ProviderCallsService } from './provider-calls.service.js';

type Behaviour = 'ok' | 'fail500' | 'hang' | 'huge' | { status: 429; retryAfterS: number };

/**
 * A real OpenAI-compatible chat-completions endpoint on 127.0.0.1: answers from a script of
 * behaviours (then `ok`), with a configurable delay, and counts the calls it received.
 */
class FakeOpenAi {
  calls = 0;
  script: Behaviour[] = [];
  fallback: Behaviour = 'ok';
  delayMs = 0;
  lastAuthorization: string | undefined;
  private readonly server: Server;
  private readonly open = new Set<ServerResponse>();

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  reset(): void {
    this.calls = 0;
    this.script = [];
    this.fallback = 'ok';
    this.delayMs = 0;
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.calls++;
    this.lastAuthorization = req.headers['authorization'];
    const body = JSON.parse(Buffer.concat(chunks).toString()) as {
      model: string;
      messages: { content: string }[];
    };
    const behaviour = this.script.shift() ?? this.fallback;
    if (this.delayMs) await sleep(this.delayMs);
    if (behaviour === 'hang') {
      this.open.add(res);
      return;
    }
    if (behaviour === 'huge') {
      // A runaway answer, streamed without a content-length: 64 KiB of a never-ending string.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"choices":[{"message":{"content":"${'x'.repeat(64 * 1024)}"}}]}`);
      return;
    }
    if (behaviour === 'fail500') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom"}}');
      return;
    }
    if (typeof behaviour === 'object') {
      res
        .writeHead(429, { 'content-type': 'application/json', 'retry-after': String(behaviour.retryAfterS) })
        .end('{"error":{"message":"rate limited"}}');
      return;
    }
    const content = `answer to: ${body.messages[0]?.content ?? ''}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
      }),
    );
  }
}

describe(ProviderCallsService.name, () => {
  const fake = new FakeOpenAi();
  const scope = { orgId: `llm-int-${randomUUID().slice(0, 8)}` };
  const redis = createCacheRedis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { name: 'llm-int' });
  let cache: TwoLevelCache;
  let breakers: BreakerRegistry;
  let sut: ProviderCallsService;
  let baseUrl: string;

  const provider = (overrides: Partial<Provider> = {}): Provider => ({
    id: `p-${randomUUID().slice(0, 8)}`,
    org_id: scope.orgId,
    kind: 'openai',
    name: 'fake',
    base_url: baseUrl,
    api_key_env: 'LLM_INT_SPEC_KEY',
    default_model: 'gpt-test',
    timeout_ms: 500,
    max_retries: 2,
    concurrency: 8,
    cost_per_1k_input: 1,
    cost_per_1k_output: 2,
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
    ...overrides,
  });
  const request = (prompt = `hello ${randomUUID()}`) => ({
    model: 'gpt-test',
    prompt,
    params: { temperature: 0 },
  });

  beforeAll(async () => {
    baseUrl = await fake.start();
    cache = new TwoLevelCache({
      namespace: `llm-int-${randomUUID().slice(0, 8)}`,
      redis,
      l1: { maxEntries: 1_000, maxBytes: 1 << 20 },
      defaultTtlMs: 60_000,
      registry: new Registry(),
    });
    await cache.start();
    breakers = new BreakerRegistry({
      defaults: {
        timeoutMs: 500,
        errorThresholdPercentage: 50,
        volumeThreshold: 4,
        resetTimeoutMs: 600,
        rollingCountTimeoutMs: 10_000,
        halfOpenMaxCalls: 1,
      },
      registry: new Registry(),
    });
    sut = new ProviderCallsService({
      adapters: [new OpenAiAdapter({ env: { LLM_INT_SPEC_KEY: 'sk-int-secret-value' } })],
      breakers,
      cache,
      cacheTtlMs: 60_000,
      retry: { baseDelayMs: 20, maxDelayMs: 2_000 },
    });
  });

  beforeEach(() => fake.reset());

  afterAll(async () => {
    sut?.close();
    breakers?.shutdown();
    await cache?.close();
    redis.disconnect();
    await fake.close();
  });

  it('calls the provider with the key from the named variable, then answers a repeat from the cache', async () => {
    const p = provider();
    const req = request();
    const first = await sut.call(scope, p, req);
    expect(first.source).toBe('provider');
    expect(first.completion).toEqual({
      output: `answer to: ${req.prompt}`,
      inputTokens: 11,
      outputTokens: 7,
    });
    expect(fake.lastAuthorization).toBe('Bearer sk-int-secret-value');

    const again = await sut.call(scope, p, req);
    expect(again.source).toBe('cache');
    expect(again.completion).toEqual(first.completion);
    expect(fake.calls).toBe(1);
  });

  it('does not share cache entries between different params or orgs', async () => {
    const p = provider();
    const req = request();
    await sut.call(scope, p, req);
    await sut.call(scope, p, { ...req, params: { temperature: 1 } });
    await sut.call({ orgId: `${scope.orgId}-other` }, p, req);
    expect(fake.calls).toBe(3);
  });

  it('coalesces 50 concurrent identical calls into one provider call', async () => {
    fake.delayMs = 100;
    const p = provider();
    const req = request();
    const results = await Promise.all(Array.from({ length: 50 }, () => sut.call(scope, p, req)));
    expect(fake.calls).toBe(1);
    expect(results.filter((r) => r.source === 'provider')).toHaveLength(1);
    expect(results.filter((r) => r.source === 'coalesced')).toHaveLength(49);
    expect(new Set(results.map((r) => r.completion.output)).size).toBe(1);
  });

  it('honours Retry-After on 429 and then succeeds', async () => {
    fake.script = [{ status: 429, retryAfterS: 1 }];
    const started = Date.now();
    const result = await sut.call(scope, provider(), request());
    expect(result.source).toBe('provider');
    expect(result.attempts).toBe(2);
    expect(fake.calls).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('retries 500s with back-off and succeeds on the third attempt', async () => {
    fake.script = ['fail500', 'fail500'];
    const result = await sut.call(scope, provider(), request());
    expect(result.attempts).toBe(3);
    expect(fake.calls).toBe(3);
  });

  it('times out a hanging provider per attempt and gives up after max_retries', async () => {
    fake.fallback = 'hang';
    const p = provider({ timeout_ms: 150, max_retries: 1 });
    const started = Date.now();
    const error = await sut.call(scope, p, request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).code).toBe('provider_unavailable');
    expect((error as Error).message).toContain('timed out after 150 ms');
    expect(fake.calls).toBe(2);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('opens the breaker on a provider failing 100 %, fails fast without calling it, and closes on recovery', async () => {
    fake.fallback = 'fail500';
    const p = provider({ max_retries: 0 });
    for (let i = 0; i < 4; i++) await sut.call(scope, p, request()).catch(() => undefined);
    expect(fake.calls).toBe(4);
    expect(breakers.get(`llm:${scope.orgId}:${p.id}`).state).toBe('open');

    const started = performance.now();
    const error = await sut.call(scope, p, request()).catch((e: unknown) => e);
    expect((error as ProviderCallError).code).toBe('breaker_open');
    expect((error as Error).message).toContain('circuit breaker is open');
    expect(performance.now() - started).toBeLessThan(50);
    expect(fake.calls).toBe(4); // refused without reaching the provider

    fake.fallback = 'ok';
    await sleep(700); // resetTimeoutMs: half-open
    const recovered = await sut.call(scope, p, request());
    expect(recovered.source).toBe('provider');
    expect(breakers.get(`llm:${scope.orgId}:${p.id}`).state).toBe('closed');
  });

  it('never puts the API key in an error', async () => {
    fake.fallback = 'fail500';
    const error = await sut.call(scope, provider({ max_retries: 0 }), request()).catch((e: unknown) => e);
    expect(String((error as Error).message)).not.toContain('sk-int-secret-value');
    expect(JSON.stringify(error)).not.toContain('sk-int-secret-value');
  });

  it('refuses (without retry and without counting against the breaker) when the key variable is unset', async () => {
    const p = provider({ api_key_env: 'LLM_INT_SPEC_UNSET' });
    const error = await sut.call(scope, p, request()).catch((e: unknown) => e);
    expect((error as ProviderCallError).code).toBe('provider_refused');
    expect((error as Error).message).toContain('LLM_INT_SPEC_UNSET');
    expect(fake.calls).toBe(0);
  });

  it('fails an answer longer than maxResponseBytes as unavailable, after its retries', async () => {
    const small = new ProviderCallsService({
      adapters: [new OpenAiAdapter({ env: { LLM_INT_SPEC_KEY: 'k' }, maxResponseBytes: 1024 })],
      breakers,
      cache: null,
      cacheTtlMs: 0,
      retry: { baseDelayMs: 5, maxDelayMs: 50 },
    });
    try {
      fake.fallback = 'huge';
      const error = await small.call(scope, provider({ max_retries: 1 }), request()).catch((e: unknown) => e);
      expect((error as ProviderCallError).code).toBe('provider_unavailable');
      expect((error as Error).message).toContain('over 1024 bytes');
      expect(fake.calls).toBe(2);
    } finally {
      small.close();
    }
  });

  it('reports a provider that refuses connections as unavailable, naming the error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await sut
      .call(scope, provider({ base_url: `http://127.0.0.1:${port}/v1`, max_retries: 0 }), request())
      .catch((e: unknown) => e);
    expect((error as ProviderCallError).code).toBe('provider_unavailable');
    expect((error as Error).message).toContain('ECONNREFUSED');
  });
});
