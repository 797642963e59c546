import { describe, expect, it } from 'vitest';
import { decide, LocalBucket, localShare } from './token-bucket.js';

describe('token bucket arithmetic', () => {
  it('refills a local bucket at the rate, capped at the burst', () => {
    const bucket = new LocalBucket({ rate: 10, burst: 5 }, 0);
    expect(bucket.level(0)).toBe(5);
    bucket.take(5);
    expect(bucket.level(100)).toBeCloseTo(1);
    expect(bucket.level(10_000)).toBe(5);
  });

  it('reports the tightest bucket and how long to wait', () => {
    const d = decide(
      false,
      [
        { limit: { rate: 1, burst: 100 }, tokens: 50 },
        { limit: { rate: 2, burst: 10 }, tokens: 0.5 },
      ],
      1,
    );
    expect(d).toEqual({ allowed: false, limit: 10, remaining: 0, resetS: 5, retryAfterS: 1 });
    const ok = decide(true, [{ limit: { rate: 0.1, burst: 10 }, tokens: 7 }]);
    expect(ok).toMatchObject({ allowed: true, remaining: 7, resetS: 30, retryAfterS: 0 });
  });

  it('divides a limit among live replicas, never below one token of burst', () => {
    expect(localShare({ rate: 100, burst: 200 }, 4)).toEqual({ rate: 25, burst: 50 });
    expect(localShare({ rate: 1, burst: 2 }, 5)).toEqual({ rate: 0.2, burst: 1 });
    expect(localShare({ rate: 10, burst: 10 }, 0)).toEqual({ rate: 10, burst: 10 });
  });
});
