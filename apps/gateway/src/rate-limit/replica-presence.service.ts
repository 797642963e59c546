import { randomUUID } from 'node:crypto';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CoreBus } from '@conduit/messaging';
import { GATEWAY_PRESENCE_SUBJECT } from '@conduit/contracts';

/** Core NATS subject gateway replicas announce themselves on. */
const INTERVAL_MS = 1_000;
/** A replica not heard from for this long is counted as gone. */
const EXPIRY_MS = 3_500;

interface Beacon {
  readonly id: string;
  readonly leaving?: boolean;
  /** Sent once at start: the others answer with a beacon at once instead of within a second. */
  readonly hello?: boolean;
}

/**
 * How many gateway replicas are alive, known over NATS: each announces itself every second and
 * says goodbye on shutdown; a new replica says hello and the others answer at once, so it knows
 * the fleet before its first request. Local rate-limit buckets are sized by this count while Redis is away.
 */
@Injectable()
export class ReplicaPresence implements OnModuleInit, OnModuleDestroy {
  readonly id = randomUUID();
  private readonly seen = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;

  constructor(private readonly bus: CoreBus) {}

  onModuleInit(): void {
    this.seen.set(this.id, Date.now());
    this.unsubscribe = this.bus.subscribe<Beacon>(GATEWAY_PRESENCE_SUBJECT, (beacon) => {
      if (typeof beacon.id !== 'string' || beacon.id === this.id) return;
      if (beacon.leaving) this.seen.delete(beacon.id);
      else this.seen.set(beacon.id, Date.now());
      if (beacon.hello) this.announce();
    });
    this.bus.publish(GATEWAY_PRESENCE_SUBJECT, { id: this.id, hello: true } satisfies Beacon);
    this.timer = setInterval(() => this.announce(), INTERVAL_MS);
    this.timer.unref();
  }

  /** Live replicas, this one included (at least 1). */
  liveReplicas(now = Date.now()): number {
    let live = 1;
    for (const [id, at] of this.seen) {
      if (id === this.id) continue;
      if (now - at <= EXPIRY_MS) live++;
      else this.seen.delete(id);
    }
    return live;
  }

  // onModuleDestroy runs before messaging drains the connection (beforeApplicationShutdown).
  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
    this.bus.publish(GATEWAY_PRESENCE_SUBJECT, { id: this.id, leaving: true } satisfies Beacon);
  }

  private announce(): void {
    this.seen.set(this.id, Date.now());
    this.bus.publish(GATEWAY_PRESENCE_SUBJECT, { id: this.id } satisfies Beacon);
  }
}
