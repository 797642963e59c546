import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** An event waiting to be relayed to JetStream. */
export interface OutboxEvent {
  readonly id: string;
  readonly subject: string;
  readonly msgId: string;
  readonly payload: unknown;
}

/** The schema whose `outbox` table a service's {@link OutboxRepository} uses. */
export const OUTBOX_SCHEMA = Symbol('OUTBOX_SCHEMA');

/** Optional {@link OutboxVacuumOptions} of a service's `OutboxService`. */
export const OUTBOX_OPTIONS = Symbol('OUTBOX_OPTIONS');

/** When the relay vacuums its own table (see `OutboxService`). */
export interface OutboxVacuumOptions {
  /** Rows this replica relayed (and deleted) since its last vacuum that call for the next; 10 000. */
  readonly vacuumAfterRows?: number;
  /** At most one vacuum per this many ms; 60 000. */
  readonly vacuumEveryMs?: number;
}

/**
 * The transactional outbox of one service's schema (`<schema>.outbox`: id bigserial, subject,
 * msg_id, payload jsonb, created_at — created by the service's own migration).
 */
@Injectable()
export class OutboxRepository {
  private readonly table: string;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(OUTBOX_SCHEMA) schema: string,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema))
      throw new Error(`outbox schema must be an identifier, got ${schema}`);
    this.table = `${schema}.outbox`;
  }

  /** Adds an event inside the caller's transaction, so it commits (or not) with the change. */
  async add(tx: EntityManager, event: Omit<OutboxEvent, 'id'>): Promise<void> {
    await tx.query(`INSERT INTO ${this.table} (subject, msg_id, payload) VALUES ($1, $2, $3)`, [
      event.subject,
      event.msgId,
      JSON.stringify(event.payload),
    ]);
  }

  /**
   * Reclaims the dead rows relayed events leave behind (`VACUUM (SKIP_LOCKED)`: skipped at once
   * if another vacuum holds the table). Runs outside any transaction; through PgBouncer in
   * transaction mode it is a transaction of its own.
   */
  async vacuum(): Promise<void> {
    await this.dataSource.query(`VACUUM (SKIP_LOCKED) ${this.table}`);
  }

  /**
   * Locks up to `limit` pending events (skipping ones another replica holds, and `skip`: ids this
   * replica is relaying itself), lets `relay` publish them, and deletes the ones it returns as
   * relayed — all in one transaction, so an event is deleted only after JetStream acknowledged
   * it. A crash re-relays; the `Nats-Msg-Id` makes that a no-op inside the stream's duplicate
   * window. Returns how many rows it found and how many of them were relayed.
   */
  async drain(
    limit: number,
    relay: (events: OutboxEvent[]) => Promise<string[]>,
    skip: readonly string[] = [],
  ): Promise<{ found: number; relayed: number }> {
    return this.dataSource.transaction(async (tx) => {
      const rows: { id: string; subject: string; msg_id: string; payload: unknown }[] = await tx.query(
        `SELECT id, subject, msg_id, payload FROM ${this.table}
          WHERE NOT (id = ANY($2::bigint[])) ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit, skip],
      );
      if (rows.length === 0) return { found: 0, relayed: 0 };
      const relayed = await relay(
        rows.map((r) => ({ id: r.id, subject: r.subject, msgId: r.msg_id, payload: r.payload })),
      );
      if (relayed.length > 0)
        await tx.query(`DELETE FROM ${this.table} WHERE id = ANY($1::bigint[])`, [relayed]);
      return { found: rows.length, relayed: relayed.length };
    });
  }

  /** Deletes relayed events by id (one autocommitted statement). */
  async delete(ids: readonly string[]): Promise<void> {
    await this.dataSource.query(`DELETE FROM ${this.table} WHERE id = ANY($1::bigint[])`, [ids]);
  }
}
