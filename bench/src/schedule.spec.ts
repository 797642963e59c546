import { describe, expect, it } from 'vitest';
import { dueCount, sendTime } from './schedule.js';

describe('sendTime', () => {
  it('spaces requests 1/rate apart from the start', () => {
    expect(sendTime(100, 1000, 0)).toBe(100);
    expect(sendTime(100, 1000, 7)).toBe(107);
    expect(sendTime(0, 300, 3)).toBeCloseTo(10, 9);
  });
});

describe('dueCount', () => {
  it('is 0 before the start', () => {
    expect(dueCount(100, 1000, 50, 99.9)).toBe(0);
  });

  it('counts every request whose time has come, including the one due now', () => {
    expect(dueCount(100, 1000, 50, 100)).toBe(1);
    expect(dueCount(100, 1000, 50, 100.5)).toBe(1);
    expect(dueCount(100, 1000, 50, 104.2)).toBe(5);
  });

  it('treats each request as due exactly at its own send time despite rounding', () => {
    for (const rate of [3, 7, 300, 1000, 3333]) {
      for (let i = 0; i < 200; i++) expect(dueCount(0.1, rate, 1e6, sendTime(0.1, rate, i))).toBe(i + 1);
    }
  });

  it('catches up at once after a stall instead of dropping requests', () => {
    expect(dueCount(0, 1000, 10_000, 250)).toBe(251);
  });

  it('never exceeds the total', () => {
    expect(dueCount(0, 1000, 10, 1e6)).toBe(10);
  });
});
