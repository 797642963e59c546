import { STREAMS } from '@conduit/contracts';
import { describe, expect, it } from 'vitest';
import { nakDelay, serverBackoff } from './consumer-runner.js';
import { streamConfig } from './stream-provisioner.js';

describe('redelivery schedules', () => {
  it('naks with the backoff step of the delivery, repeating the last one', () => {
    const backoff = [1000, 5000, 15000];
    expect([1, 2, 3, 4, 9].map((n) => nakDelay(backoff, n))).toEqual([1000, 5000, 15000, 15000, 15000]);
    expect(nakDelay([], 3)).toBe(0);
  });

  it('gives the server a backoff that starts at ack wait and stays shorter than max_deliver', () => {
    expect(serverBackoff(30, 5)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(serverBackoff(30, 2)).toEqual([30_000]);
    expect(serverBackoff(30, 1)).toEqual([]);
  });
});

describe(streamConfig.name, () => {
  const limits = { maxAgeHours: 2, maxBytesMb: 10, duplicateWindowS: 120 };

  it('applies the configured limits in nanoseconds and bytes', () => {
    const sut = streamConfig(STREAMS.TELEMETRY, limits);
    expect(sut.max_age).toBe(2 * 3600 * 1e9);
    expect(sut.duplicate_window).toBe(120 * 1e9);
    expect(sut.max_bytes).toBe(10 * 1024 * 1024);
    expect(sut.subjects).toEqual(['telemetry.ingest.*.*']);
  });

  it('keeps dead letters four times longer', () => {
    expect(streamConfig(STREAMS.DLQ, limits).max_age).toBe(8 * 3600 * 1e9);
  });
});
