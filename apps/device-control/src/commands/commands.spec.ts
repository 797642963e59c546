import { describe, expect, it } from 'vitest';
import { breakerName } from './breaker-name.js';
import { retryDelayMs } from './command-dispatch.service.js';
import { decodeCommandCursor, encodeCommandCursor } from './commands.repository.js';
import { shadowDelta } from './commands.service.js';

describe('command dispatch helpers', () => {
  it('backs off exponentially with ±20 % jitter, capped at 60 s', () => {
    expect(retryDelayMs(500, 1, () => 0.5)).toBe(500);
    expect(retryDelayMs(500, 3, () => 0.5)).toBe(2_000);
    expect(retryDelayMs(500, 3, () => 0)).toBeCloseTo(1_600, 6);
    expect(retryDelayMs(500, 3, () => 1)).toBeCloseTo(2_400, 6);
    expect(retryDelayMs(500, 30, () => 0.5)).toBe(60_000);
  });

  it('names one breaker per vendor, org and site', () => {
    expect(breakerName('http-bridge', 'org-a', 'north')).toBe('http-bridge:org-a:north');
    expect(breakerName('mqtt', 'org-a', null)).toBe('mqtt:org-a:*');
    expect(breakerName('http-bridge', 'org-b', 'north')).not.toBe(
      breakerName('http-bridge', 'org-a', 'north'),
    );
  });
});

describe('command cursors', () => {
  it('round-trip, and refuse what next_cursor never produced', () => {
    const sut = { createdAt: new Date(1_764_000_000_123), id: '0b5b6f4e-6b9e-4c0e-9a53-3f1f2b7a9c11' };
    expect(decodeCommandCursor(encodeCommandCursor(sut))).toEqual(sut);
    expect(decodeCommandCursor('bm9wZQ')).toBeUndefined();
    expect(decodeCommandCursor(Buffer.from('12.not-a-uuid').toString('base64url'))).toBeUndefined();
  });
});

describe(shadowDelta.name, () => {
  it('lists desired keys whose reported value differs or is missing, comparing deeply', () => {
    const desired = { on: true, level: 80, color: { h: 1, s: 2 }, mode: 'eco' };
    const reported = { on: true, level: 40, color: { h: 1, s: 2 }, temperature: 21 };
    expect(shadowDelta(desired, reported)).toEqual({ level: 80, mode: 'eco' });
    expect(shadowDelta({}, reported)).toEqual({});
  });
});
