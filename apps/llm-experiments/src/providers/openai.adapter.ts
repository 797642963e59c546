import type { Provider } from '@conduit/contracts';
import { HttpClient, httpErrorText, type HttpAnswer } from '@conduit/runtime';
import { z } from 'zod';
import type { ChatCompletion, ChatRequest, ProviderAdapter } from './provider.adapter.js';
import { ProviderRefusedError, RetryableProviderError, parseRetryAfter } from './retry.js';

// The part of an OpenAI chat.completion object we read (other fields are ignored).
const completionSchema = z.object({
  choices: z
    .array(z.object({ message: z.object({ content: z.string().nullable() }).partial() }))
    .min(1, 'no choices'),
  usage: z
    .object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0) })
    .partial()
    .optional(),
});

export interface OpenAiAdapterOptions {
  /** Where `api_key_env` names are looked up; `process.env` by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Longer answers fail the attempt; 4 MiB by default. */
  readonly maxResponseBytes?: number;
}

/**
 * OpenAI-compatible chat completions: `POST <base_url>/chat/completions` with
 * `{ model, messages: [{ role: 'user', content }], ...params }` and, when the provider names an
 * `api_key_env`, `authorization: Bearer <that variable's value>` (read at every call, never
 * stored, logged or put in an error). Connections are kept alive (`HttpClient` of
 * `@conduit/runtime`: node:http agents — fetch's garbage stalled runs, see there); {@link close}
 * closes them.
 *
 * - 2xx with a choice: the answer; token counts from `usage` (0 when absent).
 * - 408, 409, 429, 5xx, network errors, the signal aborting: {@link RetryableProviderError}
 *   (with `Retry-After` when sent).
 * - other statuses, an unreadable body, a missing key variable: {@link ProviderRefusedError}.
 */
export class OpenAiAdapter implements ProviderAdapter {
  readonly kind = 'openai' as const;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly http: HttpClient;

  constructor(options: OpenAiAdapterOptions = {}) {
    this.env = options.env ?? process.env;
    this.http = new HttpClient({
      maxResponseBytes: options.maxResponseBytes ?? 4 * 1024 * 1024,
      // Calls per provider are bounded by its own `concurrency` (up to 10 000, ProviderCallsService):
      // the agent adds no limit below it.
      maxSocketsPerHost: Infinity,
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.http.close();
  }

  async complete(provider: Provider, request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    if (!provider.base_url) throw new ProviderRefusedError(`provider ${provider.id} has no base_url`);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    if (provider.api_key_env) {
      const key = this.env[provider.api_key_env];
      if (!key)
        throw new ProviderRefusedError(
          `environment variable ${provider.api_key_env} (api_key_env) is not set`,
        );
      headers['authorization'] = `Bearer ${key}`;
    }
    const url = new URL(`${provider.base_url.replace(/\/+$/, '')}/chat/completions`);
    const body = JSON.stringify({
      ...request.params,
      model: request.model,
      messages: [{ role: 'user', content: request.prompt }],
    });
    let res: HttpAnswer;
    try {
      res = await this.http.send(url, { method: 'POST', headers, body, signal });
    } catch (error) {
      throw new RetryableProviderError(`provider ${provider.id}: ${describe(error, signal)}`);
    }
    const text = res.body;
    if (res.status === 408 || res.status === 409 || res.status === 429 || res.status >= 500) {
      throw new RetryableProviderError(
        `provider ${provider.id} answered ${res.status}`,
        res.status,
        parseRetryAfter(res.headers['retry-after']),
      );
    }
    if (res.status < 200 || res.status >= 300)
      throw new ProviderRefusedError(
        `provider ${provider.id} answered ${res.status}: ${text.slice(0, 200)}`,
        res.status,
      );
    let parsed: z.infer<typeof completionSchema>;
    try {
      parsed = completionSchema.parse(JSON.parse(text));
    } catch {
      throw new ProviderRefusedError(
        `provider ${provider.id} answered ${res.status} without a chat completion`,
      );
    }
    return {
      output: parsed.choices[0]?.message.content ?? '',
      inputTokens: parsed.usage?.prompt_tokens ?? 0,
      outputTokens: parsed.usage?.completion_tokens ?? 0,
    };
  }
}

function describe(error: unknown, signal: AbortSignal): string {
  if (signal.aborted)
    return `aborted (${signal.reason instanceof Error ? signal.reason.message : 'time-out'})`;
  return httpErrorText(error);
}
