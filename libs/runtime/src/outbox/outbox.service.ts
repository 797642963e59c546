import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EventPublisher } from '@conduit/messaging';
import { OutboxRepository, type OutboxEvent } from './outbox.repository.js';

const BATCH = 100;
const SWEEP_MS = 1_000;

/**
 * Relays outbox events to JetStream: right after each commit (`flushSoon`) and, for anything a
 * failed or crashed relay left behind, on a 1 s sweep.
 */
@Injectable()
export class OutboxService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly publisher: EventPublisher,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.flushSoon(), SWEEP_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Starts a relay pass unless one is running (then it runs once more after it). */
  flushSoon(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.flush()
      .catch((error: unknown) =>
        this.logger.warn(`outbox relay failed, retrying on the next sweep: ${String(error)}`),
      )
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.flushSoon();
        }
      });
  }

  /** Relays until the outbox is empty or a publish fails. */
  async flush(): Promise<void> {
    while ((await this.outbox.drain(BATCH, (events) => this.relay(events))) === BATCH);
  }

  private async relay(events: OutboxEvent[]): Promise<string[]> {
    // Pipelined on one connection: JetStream stores them in publish order and acknowledges each.
    // Only the prefix up to the first failure counts as relayed (order kept); anything after it
    // that did get stored is re-sent later with the same Nats-Msg-Id and dropped as a duplicate.
    const results = await Promise.allSettled(
      events.map((event) => this.publisher.publishRaw(event.subject, event.payload, { msgId: event.msgId })),
    );
    const done: string[] = [];
    for (const [i, result] of results.entries()) {
      const event = events[i] as OutboxEvent;
      if (result.status === 'rejected') {
        this.logger.warn(`publish of ${event.subject} failed: ${String(result.reason)}`);
        break;
      }
      done.push(event.id);
    }
    return done;
  }
}
