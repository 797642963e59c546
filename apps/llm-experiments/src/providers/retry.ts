import { setTimeout as sleep } from 'node:timers/promises';

/** A provider failure worth another attempt (429, 408, 5xx, network error, attempt time-out). */
export class RetryableProviderError extends Error {
  constructor(
    message: string,
    /** HTTP status, when the provider answered. */
    readonly status?: number,
    /** The provider's `Retry-After`, in milliseconds from when it answered. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryableProviderError';
  }
}

/** A provider refusal that another attempt will not change (other 4xx, a malformed answer, bad settings). */
export class ProviderRefusedError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProviderRefusedError';
  }
}

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; milliseconds from `now`, or
 * undefined when absent or unreadable. A date in the past means 0.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP-date names a weekday and month; anything else Date.parse might accept ('-1') is not one.
  if (!/^[A-Za-z]{3}, /.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface RetryPolicy {
  /** Attempts after the first. */
  readonly maxRetries: number;
  /** First back-off; doubles per retry. */
  readonly baseDelayMs: number;
  /** Cap of one back-off, and of a provider's `Retry-After` we are willing to wait for. */
  readonly maxDelayMs: number;
}

/**
 * Back-off before retry `retry` (1-based): "equal jitter" — half of base·2^(retry−1) fixed, the
 * other half random — so that retries of many callers spread out but never come back at once.
 * Capped at `maxDelayMs`.
 */
export function backoffDelayMs(
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The wait before the next attempt after `error`, or undefined to give up: not retryable, out
 * of retries, or the provider asks (`Retry-After`) for longer than `maxDelayMs`. A `Retry-After`
 * is honoured as a minimum (never retried sooner); jitter is added on top of it.
 */
export function nextDelayMs(
  error: unknown,
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (!(error instanceof RetryableProviderError) || retry > policy.maxRetries) return undefined;
  const backoff = backoffDelayMs(retry, policy, random);
  if (error.retryAfterMs === undefined) return backoff;
  if (error.retryAfterMs > policy.maxDelayMs) return undefined;
  return error.retryAfterMs + Math.round(random() * Math.min(backoff, 100));
}

/**
 * Runs `attempt(n)` (n from 0) until it succeeds or {@link nextDelayMs} says to stop; then
 * rethrows the last error. `signal` aborts the waits between attempts. `onRetry` sees each
 * failure that is retried (for metrics and logs).
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  options: {
    readonly signal?: AbortSignal;
    readonly random?: () => number;
    readonly onRetry?: (error: unknown, delayMs: number) => void;
  } = {},
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const delay = nextDelayMs(error, n + 1, policy, options.random);
      if (delay === undefined || options.signal?.aborted) throw error;
      options.onRetry?.(error, delay);
      await sleep(delay, undefined, { signal: options.signal });
    }
  }
}
