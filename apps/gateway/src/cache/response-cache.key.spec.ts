import { describe, expect, it } from 'vitest';
import { ResponseCacheService } from './response-cache.service.js';

describe('response cache keys', () => {
  const keyOf = ResponseCacheService.keyOf;

  it('start with the org, so no two orgs share an entry', () => {
    expect(keyOf('org-a', '/api/v1/devices')).toBe('org-a|/api/v1/devices');
    expect(keyOf('org-a', '/api/v1/devices')).not.toBe(keyOf('org-b', '/api/v1/devices'));
  });

  it('normalise the query: order of parameters and empty values do not matter', () => {
    expect(keyOf('o', '/d?type=meter&site=s1')).toBe(keyOf('o', '/d?site=s1&type=meter'));
    expect(keyOf('o', '/d?site=s1&cursor=')).toBe(keyOf('o', '/d?site=s1'));
    expect(keyOf('o', '/d?site=s1')).not.toBe(keyOf('o', '/d?site=s2'));
    expect(keyOf('o', '/d?')).toBe('o|/d');
  });

  it('include the vary header values', () => {
    expect(keyOf('o', '/d', ['en'])).not.toBe(keyOf('o', '/d', ['de']));
  });
});
