import { randomUUID } from 'node:crypto';
import type { StreamDefinition } from '@conduit/contracts';
import { Messaging } from '../messaging.js';
import type { MessagingOptions } from '../messaging.options.js';

/** A name unique to this test run, safe as a stream, consumer or subject token. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** Options for tests against the real NATS on this machine (NATS_URL or 127.0.0.1:4222). */
export function testMessagingOptions(overrides: Partial<MessagingOptions> = {}): MessagingOptions {
  return {
    name: 'test',
    servers: (process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222').split(','),
    requestTimeoutMs: 2_000,
    streams: { maxAgeHours: 1, maxBytesMb: 64, duplicateWindowS: 60 },
    consumers: { maxDeliver: 3, ackWaitS: 5, backoffMs: [50, 100] },
    provisionStreams: false,
    ...overrides,
  };
}

/**
 * A real connection for a test; dispose it with `await using`. Provisions `streams` (test-only
 * definitions with unique names) when given.
 */
export async function connectTestMessaging(
  overrides: Partial<MessagingOptions> = {},
  streams?: readonly StreamDefinition[],
): Promise<Messaging> {
  const options = testMessagingOptions({ ...overrides, provisionStreams: streams !== undefined });
  return Messaging.connect(options, streams);
}
