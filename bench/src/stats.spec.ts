import { describe, expect, it } from 'vitest';
import { percentile, round, summarize } from './stats.js';

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 95)).toBe(95);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile(sorted, 0)).toBe(1);
  });

  it('is NaN without samples', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('summarize', () => {
  it('sorts numerically, not as strings', () => {
    const sut = summarize([100, 9, 20, 3, 1000, 50, 7, 8, 10, 2]);
    expect(sut).toEqual({ count: 10, p50: 9, p95: 1000, p99: 1000, max: 1000 });
  });

  it('does not reorder the caller’s samples', () => {
    const samples = [3, 1, 2];
    summarize(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('reports NaN for an empty run', () => {
    expect(summarize([]).p99).toBeNaN();
  });
});

describe('round', () => {
  it('rounds to the given decimals', () => {
    expect(round(0.023456, 4)).toBe(0.0235);
    expect(round(12.345)).toBe(12.35);
  });
});
