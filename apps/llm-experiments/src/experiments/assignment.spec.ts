import { describe, expect, it } from 'vitest';
import { assignVariant, bucketOf, fnv1a32 } from './assignment.js';

describe(fnv1a32.name, () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    // From the FNV reference test suite (draft-eastlake-fnv, test vectors for FNV-1a 32).
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('hashes UTF-8 bytes, not UTF-16 code units', () => {
    // 'é' is the two bytes c3 a9; computed independently (Python, bytes API).
    expect(fnv1a32('é')).toBe(0x1e9de8c1);
  });
});

describe(assignVariant.name, () => {
  const variants = [
    { key: 'control', weight: 50 },
    { key: 'b', weight: 30 },
    { key: 'c', weight: 20 },
  ];

  it('splits 100 000 units within 1 % (absolute) of the weights', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const v = assignVariant('exp-seed-1', `user-${i}`, variants).key;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect(Math.abs((counts.get('control') ?? 0) / 100_000 - 0.5)).toBeLessThan(0.01);
    expect(Math.abs((counts.get('b') ?? 0) / 100_000 - 0.3)).toBeLessThan(0.01);
    expect(Math.abs((counts.get('c') ?? 0) / 100_000 - 0.2)).toBeLessThan(0.01);
  });

  it('gives a unit the same variant every time, and a fixed, known one (same on every replica)', () => {
    const first = assignVariant('exp-seed-1', 'user-42', variants).key;
    for (let i = 0; i < 100; i++) expect(assignVariant('exp-seed-1', 'user-42', variants).key).toBe(first);
    // Pinned: a change of the hash or bucketing would silently reassign every running experiment.
    // Values computed independently (Python over the UTF-8 bytes).
    expect(fnv1a32('exp-seed-1:user-42')).toBe(2229252074);
    expect(bucketOf('exp-seed-1', 'user-42')).toBe(0.7348);
    expect(first).toBe('b'); // 0.7348 · 100 = 73.48 lies in b's range [50, 80)
  });

  it('reshuffles units between experiments with different seeds', () => {
    let same = 0;
    for (let i = 0; i < 10_000; i++) {
      if (
        assignVariant('seed-a', `u${i}`, [
          { key: 'x', weight: 1 },
          { key: 'y', weight: 1 },
        ]).key ===
        assignVariant('seed-b', `u${i}`, [
          { key: 'x', weight: 1 },
          { key: 'y', weight: 1 },
        ]).key
      )
        same++;
    }
    // Independent 50/50 splits agree for about half the units.
    expect(same / 10_000).toBeGreaterThan(0.47);
    expect(same / 10_000).toBeLessThan(0.53);
  });

  it('never assigns a zero-weight variant', () => {
    for (let i = 0; i < 5_000; i++)
      expect(
        assignVariant('s', `u${i}`, [
          { key: 'a', weight: 1 },
          { key: 'off', weight: 0 },
        ]).key,
      ).toBe('a');
  });
});
