import type { Provider } from '@conduit/contracts';

/** One chat completion to ask for: a single user message. */
export interface ChatRequest {
  readonly model: string;
  readonly prompt: string;
  /** Passed to the provider as they are (`temperature`, `max_tokens`…). */
  readonly params: Readonly<Record<string, string | number | boolean | null>>;
}

/** What a provider answered, with its own token counts. */
export interface ChatCompletion {
  readonly output: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/**
 * One kind of provider (`openai`, `local`). `complete` makes exactly one attempt — retries,
 * time-outs, the breaker and the cache are the caller's — and throws `RetryableProviderError`
 * (408, 429, 5xx, network, abort) or `ProviderRefusedError` (anything else that is not an answer).
 * It never puts the API key in an error or a log line.
 */
export interface ProviderAdapter {
  readonly kind: Provider['kind'];
  complete(provider: Provider, request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion>;
  /** Releases what the adapter holds open (kept-alive connections); called at shutdown. */
  close?(): void;
}
