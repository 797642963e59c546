import type { Provider } from '@conduit/contracts';
import { fnv1a32 } from '../experiments/assignment.js';
import type { ChatCompletion, ChatRequest, ProviderAdapter } from './provider.adapter.js';

/** Every answer of the local provider starts with this: nobody mistakes it for a model's. */
export const LOCAL_PROVIDER_MARK = '[local provider: deterministic development answer, no model was called]';

/** Rough token count (≈ 4 characters per token for English text), at least 1. */
export const approximateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

/**
 * For development and benchmarks: answers at once, deterministically from the model, prompt and
 * parameters (same input, same output), and says so in every response.
 */
export class LocalAdapter implements ProviderAdapter {
  readonly kind = 'local' as const;

  async complete(_provider: Provider, request: ChatRequest, signal: AbortSignal): Promise<ChatCompletion> {
    signal.throwIfAborted();
    const digest = fnv1a32(`${request.model}\n${JSON.stringify(request.params)}\n${request.prompt}`)
      .toString(16)
      .padStart(8, '0');
    const excerpt = request.prompt.length > 200 ? `${request.prompt.slice(0, 200)}…` : request.prompt;
    const output = `${LOCAL_PROVIDER_MARK} model=${request.model} digest=${digest} prompt="${excerpt}"`;
    return {
      output,
      inputTokens: approximateTokens(request.prompt),
      outputTokens: approximateTokens(output),
    };
  }
}
