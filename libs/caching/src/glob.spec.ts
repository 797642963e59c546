import { describe, expect, it } from 'vitest';
import { decode, encode, isCompressed } from './codec.js';
import { escapeGlob, globToRegExp } from './glob.js';

describe('glob', () => {
  it('matches like Redis MATCH: * any run, ? one character, \\ escapes', () => {
    const re = globToRegExp('org1|/api/v1/devices*');
    expect(re.test('org1|/api/v1/devices?site=a')).toBe(true);
    expect(re.test('org10|/api/v1/devices')).toBe(false);
    expect(globToRegExp('a?c').test('abc')).toBe(true);
    expect(globToRegExp('a?c').test('ac')).toBe(false);
    expect(globToRegExp('a\\*').test('a*')).toBe(true);
    expect(globToRegExp('a\\*').test('ab')).toBe(false);
    expect(globToRegExp('(x)+').test('(x)+')).toBe(true);
  });

  it('escapes a literal prefix', () => {
    expect(escapeGlob('cache:a*b:')).toBe('cache:a\\*b:');
  });
});

describe('L2 codec', () => {
  it('round-trips small values raw and large ones deflated', () => {
    const small = encode({ v: { a: 1 }, e: 5 }, 1024);
    expect(isCompressed(small)).toBe(false);
    expect(decode(small)).toEqual({ v: { a: 1 }, e: 5 });
    const value = { text: 'abc'.repeat(1000) };
    const big = encode({ v: value, e: 9, t: ['x'] }, 1024);
    expect(isCompressed(big)).toBe(true);
    expect(big.length).toBeLessThan(200);
    expect(decode(big)).toEqual({ v: value, e: 9, t: ['x'] });
  });
});
