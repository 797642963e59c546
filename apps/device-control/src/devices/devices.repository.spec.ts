import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './devices.repository.js';

describe('device cursors', () => {
  it('round-trips (created_at, id) with millisecond precision', () => {
    const sut = { createdAt: new Date('2026-11-24T10:11:12.345Z'), id: 'a-1_b' };
    const encoded = encodeCursor(sut);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(encoded)).toEqual(sut);
  });

  it.each([
    '',
    'bm90LWEtY3Vyc29y',
    Buffer.from('12x.id').toString('base64url'),
    Buffer.from('123.').toString('base64url'),
  ])('rejects the malformed cursor %j', (raw) => {
    expect(decodeCursor(raw)).toBeUndefined();
  });
});
