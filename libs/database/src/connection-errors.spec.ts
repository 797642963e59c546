import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './connection-errors.js';

describe(isDatabaseUnavailable.name, () => {
  it.each([
    { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:6432' },
    { code: '57P01', message: 'terminating connection due to administrator command' },
    { code: '08006', message: 'connection failure' },
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
  ])('treats %o as an outage', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    { code: '23505', message: 'duplicate key value violates unique constraint' },
    { code: '42P01', message: 'relation does not exist' },
    new Error('boom'),
    'ECONNREFUSED',
    null,
  ])('treats %o as a bug or a bad request, not an outage', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
