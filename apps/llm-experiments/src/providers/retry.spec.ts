import { describe, expect, it } from 'vitest';
import {
  ProviderRefusedError,
  RetryableProviderError,
  backoffDelayMs,
  nextDelayMs,
  parseRetryAfter,
  withRetries,
} from './retry.js';

const policy = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

describe(parseRetryAfter.name, () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
  });

  it('reads an HTTP-date relative to now, a past one as 0', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
  });
});

describe(backoffDelayMs.name, () => {
  it('doubles per retry with equal jitter: between half and all of base·2^(n−1)', () => {
    expect(backoffDelayMs(1, policy, () => 0)).toBe(50);
    expect(backoffDelayMs(1, policy, () => 1)).toBe(100);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(200);
    expect(backoffDelayMs(3, policy, () => 1)).toBe(400);
  });

  it('is capped at maxDelayMs', () => {
    expect(backoffDelayMs(20, policy, () => 1)).toBe(1_000);
  });
});

describe(nextDelayMs.name, () => {
  it('honours Retry-After as a minimum', () => {
    const error = new RetryableProviderError('429', 429, 700);
    expect(nextDelayMs(error, 1, policy, () => 0)).toBe(700);
    expect(nextDelayMs(error, 1, policy, () => 1)).toBeGreaterThanOrEqual(700);
    expect(nextDelayMs(error, 1, policy, () => 1)).toBeLessThanOrEqual(800);
  });

  it('gives up when Retry-After asks for longer than maxDelayMs', () => {
    expect(nextDelayMs(new RetryableProviderError('429', 429, 5_000), 1, policy)).toBeUndefined();
  });

  it('gives up after maxRetries and on refusals', () => {
    expect(nextDelayMs(new RetryableProviderError('500', 500), 4, policy)).toBeUndefined();
    expect(nextDelayMs(new RetryableProviderError('500', 500), 3, policy)).toBeDefined();
    expect(nextDelayMs(new ProviderRefusedError('400', 400), 1, policy)).toBeUndefined();
  });
});

describe(withRetries.name, () => {
  it('retries retryable failures and returns the first success', async () => {
    let calls = 0;
    const delays: number[] = [];
    const sut = await withRetries(
      async () => {
        calls++;
        if (calls < 3) throw new RetryableProviderError('503', 503);
        return 'ok';
      },
      { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 10 },
      { onRetry: (_e, d) => delays.push(d) },
    );
    expect(sut).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it('rethrows the last error when out of retries, after maxRetries + 1 attempts', async () => {
    let calls = 0;
    const run = withRetries(
      async () => {
        calls++;
        throw new RetryableProviderError(`fail ${calls}`, 500);
      },
      { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 10 },
    );
    await expect(run).rejects.toThrow('fail 3');
    expect(calls).toBe(3);
  });

  it('does not retry a refusal', async () => {
    let calls = 0;
    const run = withRetries(async () => {
      calls++;
      throw new ProviderRefusedError('bad request', 400);
    }, policy);
    await expect(run).rejects.toBeInstanceOf(ProviderRefusedError);
    expect(calls).toBe(1);
  });
});
