import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { EventPublisher } from '@conduit/messaging';
import {
  OUTBOX_OPTIONS,
  OutboxRepository,
  type OutboxEvent,
  type OutboxVacuumOptions,
} from './outbox.repository.js';

const BATCH = 100;
const SWEEP_MS = 1_000;
/** Relayed rows are deleted in one statement at most this often (and at 500 ids at once). */
const DELETE_EVERY_MS = 50;
const DELETE_AT = 500;

/**
 * Relays outbox events to JetStream: right after each commit and, for anything a failed or
 * crashed relay left behind, on a 1 s sweep.
 *
 * After a commit a writer that knows its events (their row ids, from `RETURNING`) hands them to
 * {@link relayCommitted}: they are published from memory at once, and the rows of what was
 * relayed are deleted by id in one autocommitted `DELETE` per 50 ms (a crash before it re-relays
 * them: duplicates the `Nats-Msg-Id` drops). That path skips the relay pass's own transaction
 * (`BEGIN`, `SELECT … FOR UPDATE SKIP LOCKED`, `DELETE`, `COMMIT`, then a pass that finds
 * nothing): in the llm bench a run cost 2.6 transactions and 6.4 statements, most of them the
 * relay's. A writer that does not know its events calls {@link flushSoon}: a relay pass reads
 * them from the table.
 *
 * Order is kept: events go from memory only while the relay is healthy and the table had
 * nothing older (`direct`, set when a pass finds the table drained). A failed publish turns it
 * off — the events stay in the table, and the passes relay them in id order until the table is
 * empty again. A failed delete is retried; until then passes skip those rows too. A pass skips the ids being relayed from memory; a row another replica is
 * relaying from memory may be published twice, and the `Nats-Msg-Id` drops the second.
 *
 * Every relayed event is a deleted row, and the relay's `ORDER BY id … FOR UPDATE SKIP LOCKED`
 * walks the dead ones until a vacuum reclaims them: with autovacuum off (as on this project's CI
 * machine) or behind, the commands bench's outbox held 128 000 dead rows and each relay pass read
 * 218 buffers instead of 30 (0.65 → 0.15 ms; 141 → 166 commands/s). So after
 * `vacuumAfterRows` relayed rows (10 000), at most every `vacuumEveryMs` (60 s), the sweep runs
 * `VACUUM (SKIP_LOCKED)` on the table itself — a few ms on a table this small.
 */
@Injectable()
export class OutboxService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private relayedSinceVacuum = 0;
  private lastVacuum = 0;
  private vacuuming?: Promise<void>;
  /** Events go from memory (see class doc); off until a pass found the table drained. */
  private direct = false;
  private readonly pending: OutboxEvent[] = [];
  private readonly inMemory = new Set<string>();
  private pumping?: Promise<void>;
  /** Relayed from memory, row not deleted yet (skipped by passes meanwhile). */
  private readonly relayed = new Set<string>();
  private deleteTimer?: NodeJS.Timeout;
  private deleting?: Promise<void>;
  private readonly vacuumAfterRows: number;
  private readonly vacuumEveryMs: number;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly publisher: EventPublisher,
    @Optional() @Inject(OUTBOX_OPTIONS) options?: OutboxVacuumOptions,
  ) {
    this.vacuumAfterRows = options?.vacuumAfterRows ?? 10_000;
    this.vacuumEveryMs = options?.vacuumEveryMs ?? 60_000;
  }

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.flushSoon();
      void this.vacuumIfDue();
    }, SWEEP_MS);
    this.timer.unref();
    this.flushSoon(); // what an earlier process left behind; turns `direct` on once drained
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([this.pumping, this.running, this.vacuuming]);
    clearTimeout(this.deleteTimer);
    await this.deleting;
    await this.deleteRelayed();
  }

  /** Whether committed events are relayed from memory now (false while the table has a backlog). */
  get relayingFromMemory(): boolean {
    return this.direct;
  }

  /**
   * Relays events whose rows have just committed (ids from the insert's `RETURNING`): from memory
   * while the relay is healthy, else through a relay pass over the table.
   */
  relayCommitted(events: readonly OutboxEvent[]): void {
    if (events.length === 0) return;
    if (!this.direct) {
      this.flushSoon();
      return;
    }
    this.pending.push(...events);
    this.pumping ??= this.pump().finally(() => (this.pumping = undefined));
  }

  private async pump(): Promise<void> {
    while (this.direct && this.pending.length > 0) {
      // A pass over the table first: what it holds is older.
      if (this.running) await this.running;
      if (!this.direct) break;
      const batch = this.pending.splice(0, BATCH);
      for (const event of batch) this.inMemory.add(event.id);
      let done: string[];
      try {
        done = await this.relay(batch);
      } finally {
        for (const event of batch) this.inMemory.delete(event.id);
      }
      for (const id of done) this.relayed.add(id);
      this.relayedSinceVacuum += done.length;
      if (done.length > 0) this.deleteSoon();
      // After the ids left `inMemory`: the pass this starts must not skip them.
      if (done.length < batch.length) this.toTable();
    }
  }

  private deleteSoon(): void {
    if (this.relayed.size >= DELETE_AT && !this.deleting) {
      clearTimeout(this.deleteTimer);
      this.deleteTimer = undefined;
      void this.deleteRelayed();
    } else if (!this.deleteTimer) {
      this.deleteTimer = setTimeout(() => {
        this.deleteTimer = undefined;
        void this.deleteRelayed();
      }, DELETE_EVERY_MS);
      this.deleteTimer.unref();
    }
  }

  /** Deletes the rows of events relayed from memory; on failure they are tried again later. */
  private deleteRelayed(): Promise<void> {
    if (this.deleting || this.relayed.size === 0) return this.deleting ?? Promise.resolve();
    const ids = [...this.relayed];
    this.deleting = this.outbox
      .delete(ids)
      .then(() => {
        for (const id of ids) this.relayed.delete(id);
      })
      .catch((error: unknown) => this.logger.warn(`deleting relayed outbox rows failed: ${String(error)}`))
      .finally(() => {
        this.deleting = undefined;
        if (this.relayed.size > 0) this.deleteSoon();
      });
    return this.deleting;
  }

  /** Stops relaying from memory: the rows are still there, and passes relay them in order. */
  private toTable(): void {
    this.direct = false;
    this.pending.length = 0;
    this.flushSoon();
  }

  /** Vacuums the table when enough relayed rows piled up since the last time (see class doc). */
  vacuumIfDue(): Promise<void> | undefined {
    if (this.vacuuming || this.relayedSinceVacuum < this.vacuumAfterRows) return this.vacuuming;
    if (Date.now() - this.lastVacuum < this.vacuumEveryMs) return undefined;
    this.relayedSinceVacuum = 0;
    this.lastVacuum = Date.now();
    this.vacuuming = this.outbox
      .vacuum()
      .catch((error: unknown) => this.logger.warn(`outbox vacuum failed: ${String(error)}`))
      .finally(() => (this.vacuuming = undefined));
    return this.vacuuming;
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

  /**
   * Relays the table until it is empty or a publish fails; empty, committed events go from
   * memory again.
   */
  async flush(): Promise<void> {
    for (;;) {
      const { found, relayed } = await this.outbox.drain(BATCH, (events) => this.relay(events), [
        ...this.inMemory,
        ...this.relayed,
      ]);
      this.relayedSinceVacuum += relayed;
      if (relayed < found) return; // a publish failed: the next sweep tries again
      if (found < BATCH) {
        this.direct = true;
        return;
      }
    }
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
