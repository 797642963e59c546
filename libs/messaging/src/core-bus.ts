import type { NatsConnection, Subscription } from '@nats-io/transport-node';

/**
 * Core NATS (not JetStream) for what every replica must see and nobody needs to replay:
 * broadcasts (presence, invalidations), queue-group fan-in, and scatter-gather with a deadline.
 * Payloads are JSON; a malformed message is dropped, never thrown into the caller.
 */
export class CoreBus {
  constructor(readonly nc: NatsConnection) {}

  publish(subject: string, data: unknown): void {
    if (this.nc.isClosed() || this.nc.isDraining()) return;
    try {
      this.nc.publish(subject, JSON.stringify(data));
    } catch {
      // Disconnected: a broadcast is best effort by nature.
    }
  }

  /** Calls `handler` for every JSON message on `subject` (`queue`: one member of the group per message). */
  subscribe<T>(
    subject: string,
    handler: (data: T, subject: string) => void,
    options: { queue?: string } = {},
  ): () => void {
    const sub: Subscription = this.nc.subscribe(subject, {
      queue: options.queue,
      callback: (err, msg) => {
        if (err) return;
        let data: T;
        try {
          data = msg.json<T>();
        } catch {
          return;
        }
        handler(data, msg.subject);
      },
    });
    return () => sub.unsubscribe();
  }

  /** Answers every request on `subject` (no queue group: every replica answers) with `answer()`'s JSON. */
  respond(subject: string, answer: () => Promise<unknown>): () => void {
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err || !msg.reply) return;
        answer().then(
          (data) => msg.respond(JSON.stringify(data)),
          () => undefined,
        );
      },
    });
    return () => sub.unsubscribe();
  }

  /** Asks every responder on `subject` and collects the JSON answers that arrive within `deadlineMs`. */
  async gather<T>(subject: string, deadlineMs: number): Promise<T[]> {
    const out: T[] = [];
    try {
      const answers = await this.nc.requestMany(subject, '', { strategy: 'timer', maxWait: deadlineMs });
      for await (const msg of answers) {
        try {
          out.push(msg.json<T>());
        } catch {
          // A malformed answer is skipped.
        }
      }
    } catch {
      // No responders at all, or NATS away: nobody answered.
    }
    return out;
  }

  /** Message counters of the connection, for performance snapshots. */
  stats(): { in_msgs: number; out_msgs: number } {
    const stats = this.nc.stats();
    return { in_msgs: stats.inMsgs, out_msgs: stats.outMsgs };
  }
}
