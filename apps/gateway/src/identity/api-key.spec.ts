import { describe, expect, it } from 'vitest';
import { displayPrefix, generateApiKey, hashApiKey, keyFromHeaders, KEY_PREFIX } from './api-key.js';

describe('API keys', () => {
  it('are random, prefixed, and stored as a SHA-256 digest', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a).not.toBe(b);
    expect(a.startsWith(KEY_PREFIX)).toBe(true);
    expect(a.length).toBeGreaterThanOrEqual(KEY_PREFIX.length + 43);
    expect(hashApiKey(a)).toHaveLength(32);
    expect(hashApiKey(a).equals(hashApiKey(a))).toBe(true);
    expect(displayPrefix(a)).toBe(a.slice(0, 10));
  });

  it('are read from Authorization: Bearer or x-api-key, nothing else', () => {
    expect(keyFromHeaders({ authorization: 'Bearer cdt_abc' })).toBe('cdt_abc');
    expect(keyFromHeaders({ authorization: 'bearer  cdt_abc ' })).toBe('cdt_abc');
    expect(keyFromHeaders({ 'x-api-key': 'cdt_xyz' })).toBe('cdt_xyz');
    expect(keyFromHeaders({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(keyFromHeaders({ authorization: 'Bearer a b' })).toBeUndefined();
    expect(keyFromHeaders({})).toBeUndefined();
  });
});
