import { describe, expect, it } from 'vitest';
import { replayableHeaders } from './baseline.js';

describe('replayableHeaders', () => {
  it('keeps the resource headers and drops framing, connection and date', () => {
    const headers = new Headers({
      'Content-Type': 'application/json; charset=utf-8',
      'x-request-id': 'abc',
      'content-length': '10',
      connection: 'keep-alive',
      'keep-alive': 'timeout=72',
      date: 'Tue, 24 Nov 2026 12:51:28 GMT',
      'transfer-encoding': 'chunked',
    });
    expect(replayableHeaders(headers)).toEqual({
      'content-type': 'application/json; charset=utf-8',
      'x-request-id': 'abc',
    });
  });
});
