import { describe, expect, it } from 'vitest';
import { atLeast, below, errorShareFailure, resultDocument } from './report.js';

describe('goals', () => {
  it('below is met strictly under the limit', () => {
    expect(below(24.9, 25)).toEqual({ target: '< 25', actual: 24.9, met: true });
    expect(below(25, 25).met).toBe(false);
    expect(below(Number.NaN, 25).met).toBe(false);
  });

  it('atLeast is met at the limit', () => {
    expect(atLeast(0.15, 0.15)).toEqual({ target: '>= 0.15', actual: 0.15, met: true });
    expect(atLeast(0.14, 0.15).met).toBe(false);
  });
});

describe('errorShareFailure', () => {
  it('allows up to 1 %', () => {
    expect(errorShareFailure('closed loop', 10, 1000)).toBeUndefined();
  });

  it('names the phase and the share above 1 %', () => {
    expect(errorShareFailure('open loop', 11, 1000)).toBe(
      'open loop: 11 errors in 1000 requests (1.1 % > 1 %)',
    );
  });

  it('fails a run where nothing answered', () => {
    expect(errorShareFailure('baseline', 64, 0)).toMatch(/^baseline: 64 errors in 0 requests/);
  });
});

describe('resultDocument', () => {
  const result = { params: { rate: 1 }, metrics: { rps: 2 }, goals: { rps: atLeast(2, 1) } };

  it('has the documented shape', () => {
    const sut = resultDocument('device-list', result, new Date('2026-01-02T03:04:05Z'));
    expect(Object.keys(sut)).toEqual(['scenario', 'when', 'machine', 'params', 'metrics', 'goals']);
    expect(sut.when).toBe('2026-01-02T03:04:05.000Z');
    expect(Object.keys(sut.machine)).toEqual(['cpus', 'cpu_model', 'mem_gb', 'node', 'platform']);
    expect(sut.machine.cpus).toBeGreaterThan(0);
  });

  it('carries the failure of an invalid run', () => {
    expect(resultDocument('x', { ...result, failure: 'too many errors' })).toMatchObject({
      failure: 'too many errors',
    });
  });
});
