import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { requestIdOf } from './request-id.js';

const request = (headers: IncomingMessage['headers'] = {}) => ({ headers }) as IncomingMessage;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe(requestIdOf.name, () => {
  it("keeps the caller's x-request-id", () => {
    expect(requestIdOf(request({ 'x-request-id': 'abc-123:x' }))).toBe('abc-123:x');
  });

  it('generates a UUID when the header is absent', () => {
    expect(requestIdOf(request())).toMatch(UUID);
  });

  it.each([['has space'], ['x'.repeat(129)], [''], ['line\nbreak']])(
    'replaces an unacceptable header %j with a UUID',
    (header) => {
      expect(requestIdOf(request({ 'x-request-id': header }))).toMatch(UUID);
    },
  );

  it('answers the same id every time for one request, a different one for another', () => {
    const req = request();

    const sut = requestIdOf(req);

    expect(requestIdOf(req)).toBe(sut);
    expect(requestIdOf(request())).not.toBe(sut);
  });
});
