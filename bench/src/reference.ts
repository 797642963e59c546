import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { summarize, type LatencySummary } from './stats.js';

/**
 * A reference for the machine's speed at what the stack does most: a core NATS request answered
 * by a responder in this process, one at a time (two hops through nats-server, each waking a
 * process). Days on this shared VM differ by up to 2× in such round trips while plain CPU work
 * barely changes; read a run's latencies next to this.
 */
export async function natsRoundTrip(nc: NatsConnection, count = 2_000): Promise<LatencySummary> {
  const subject = `bench.reference.${randomBytes(4).toString('hex')}`;
  const sub = nc.subscribe(subject, {
    callback: (_err, msg) => {
      msg.respond();
    },
  });
  try {
    await nc.flush();
    for (let i = 0; i < 200; i++) await nc.request(subject, '', { timeout: 2_000 });
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await nc.request(subject, '', { timeout: 2_000 });
      samples.push((performance.now() - t0) * 1000);
    }
    return summarize(samples);
  } finally {
    sub.unsubscribe();
  }
}
