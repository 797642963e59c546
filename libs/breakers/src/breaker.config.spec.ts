import { ConfigError } from '@conduit/config';
import { describe, expect, it } from 'vitest';
import { breakerOptionsFromEnv, breakerOptionsSchema, breakerOverridesSchema } from './breaker.config.js';

describe(breakerOptionsFromEnv.name, () => {
  it('reads the variables that are set, as numbers, and leaves the others out', () => {
    const sut = breakerOptionsFromEnv('BREAKER_PAY_', {
      BREAKER_PAY_TIMEOUT_MS: '2000',
      BREAKER_PAY_ERROR_THRESHOLD_PERCENTAGE: ' 25.5 ',
      BREAKER_PAY_HALF_OPEN_MAX_CALLS: '3',
      BREAKER_PAY_VOLUME_THRESHOLD: '',
      BREAKER_GEO_TIMEOUT_MS: '1',
    });

    expect(sut).toEqual({ timeoutMs: 2000, errorThresholdPercentage: 25.5, halfOpenMaxCalls: 3 });
  });

  it('throws a ConfigError naming every bad variable, never its value', () => {
    const sut = () =>
      breakerOptionsFromEnv('B_', {
        B_TIMEOUT_MS: 'soon-ish',
        B_ROLLING_COUNT_BUCKETS: '0',
        B_RESET_TIMEOUT_MS: '5',
      });

    const error = (() => {
      try {
        return sut();
      } catch (e) {
        return e;
      }
    })();

    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.map((i) => i.variable).sort();
    expect(issues).toEqual(['B_ROLLING_COUNT_BUCKETS', 'B_TIMEOUT_MS']);
    expect((error as Error).message).not.toContain('soon-ish');
  });
});

describe('breakerOptionsSchema', () => {
  it('accepts numbers or numeric strings and rejects buckets shorter than 1 ms', () => {
    const sut = breakerOptionsSchema;
    const valid = {
      timeoutMs: '1500',
      errorThresholdPercentage: 50,
      volumeThreshold: 10,
      resetTimeoutMs: 30_000,
      rollingCountTimeoutMs: 10_000,
    };

    expect(sut.parse(valid)).toEqual({ ...valid, timeoutMs: 1500 });
    const tooFine = sut.safeParse({ ...valid, rollingCountTimeoutMs: 9, rollingCountBuckets: 10 });
    expect(tooFine.success).toBe(false);
    expect(tooFine.error?.issues.map((i) => i.path.join('.'))).toEqual(['rollingCountBuckets']);
    expect(sut.safeParse({ ...valid, timeoutMs: 2 ** 31 }).success).toBe(false);
  });

  it('lets overrides name any subset without filling in defaults', () => {
    expect(breakerOverridesSchema.parse({ resetTimeoutMs: '100' })).toEqual({ resetTimeoutMs: 100 });
    expect(breakerOverridesSchema.safeParse({ halfOpenMaxCalls: 0 }).success).toBe(false);
  });
});
