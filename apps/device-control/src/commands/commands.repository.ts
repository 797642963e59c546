import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  DeviceCommandTransitioned,
  DeviceStateReported,
  type CommandStatus,
  type ListCommandsQuery,
} from '@conduit/contracts';
import { rawPool, rowsOf, StoredStatement, type TenantScope } from '@conduit/database';
import { subjectSql, type OutboxEvent } from '@conduit/runtime';
import { BREAKER_NAME_SQL } from './breaker-name.js';

/** A stored command, camelCase. */
export interface CommandRow {
  readonly id: string;
  readonly orgId: string;
  readonly deviceId: string;
  readonly vendor: string | null;
  readonly breaker: string;
  readonly action: string;
  readonly params: Record<string, unknown>;
  readonly status: CommandStatus;
  readonly reason: string | null;
  readonly attempts: number;
  readonly idempotencyKey: string | null;
  readonly deadline: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface TransitionRow {
  readonly status: CommandStatus;
  readonly at: Date;
  readonly reason: string | null;
}

export interface NewCommand {
  readonly id: string;
  readonly deviceId: string;
  readonly action: string;
  readonly params: Record<string, unknown>;
  readonly idempotencyKey: string | null;
  readonly deadline: Date;
  /** `set_state` commands: the keys they set become the device's desired state. */
  readonly desired?: Record<string, unknown>;
}

/** How a new command is stored: which devices get one, and who tries it first. */
export interface CreateOptions {
  /** Vendors this service delivers to: a device with any other vendor (or none) gets no command. */
  readonly vendors: readonly string[];
  /** Breakers that let no call through now: a command behind one is left to the poll. */
  readonly blocked: readonly string[];
  /**
   * When above 0, the caller tries every other new command at once, and the poll leaves it alone
   * for this long (the caller's lease); at 0 every command is due for the poll at once.
   */
  readonly inlineLeaseMs: number;
}

/** What {@link CommandsRepository.create} did. */
export type CreateResult =
  | { readonly kind: 'device_missing' }
  | { readonly kind: 'vendor_unknown'; readonly target: DeliveryTarget }
  | {
      readonly kind: 'stored';
      readonly row: CommandRow;
      readonly target: DeliveryTarget;
      /** False: the idempotency key was used before, and `row` is that command. */
      readonly created: boolean;
      /** The caller is to try it now (it holds the lease). */
      readonly inline: boolean;
      readonly events: readonly OutboxEvent[];
    };

/** What a command needs for delivery: its device's vendor ids and the site's settings. */
export interface DeliveryTarget {
  readonly vendor: string | null;
  readonly externalId: string | null;
  readonly site: string | null;
  readonly integrations: Record<string, Record<string, unknown>>;
}

/** A change of a command's status: the statuses passed through (in order) and what else changes. */
export interface Transition {
  /** Statuses it may move from; the transition is skipped (returns null) from any other. */
  readonly from: readonly CommandStatus[];
  /** One or more statuses in order, e.g. `['sent', 'delivered', 'succeeded']`; the last stays. */
  readonly to: readonly CommandStatus[];
  readonly reason?: string | null;
  readonly attempted?: boolean;
  readonly ackDeadline?: Date | null;
  readonly nextAttemptAt?: Date | null;
  /** State the vendor reported back, merged into the device's `reported` state. */
  readonly reported?: Readonly<Record<string, unknown>>;
  /**
   * Who reported it, for changes a device reports itself (an MQTT ack): applied only if the
   * command is for that vendor and for the device with that external id. Otherwise any device
   * able to publish on its own ack topic could move another device's (or org's) commands.
   */
  readonly sender?: { readonly vendor: string; readonly externalId: string };
}

/** Keyset position in a device's command list. */
export interface CommandCursor {
  readonly createdAt: Date;
  readonly id: string;
}

export const encodeCommandCursor = (c: CommandCursor): string =>
  Buffer.from(`${c.createdAt.getTime()}.${c.id}`).toString('base64url');

export function decodeCommandCursor(raw: string): CommandCursor | undefined {
  const text = Buffer.from(raw, 'base64url').toString();
  const dot = text.indexOf('.');
  const ms = Number(text.slice(0, dot));
  const id = text.slice(dot + 1);
  if (dot <= 0 || !Number.isSafeInteger(ms) || !/^[0-9a-f-]{36}$/.test(id)) return undefined;
  return { createdAt: new Date(ms), id };
}

const COLUMNS = `id, org_id, device_id, vendor, breaker, action, params, status, reason, attempts,
  idempotency_key, deadline, created_at, updated_at`;

interface RawCommand {
  id: string;
  org_id: string;
  device_id: string;
  vendor: string | null;
  breaker: string;
  action: string;
  params: Record<string, unknown>;
  status: CommandStatus;
  reason: string | null;
  attempts: number;
  idempotency_key: string | null;
  deadline: Date;
  created_at: Date;
  updated_at: Date;
  /** The outbox rows the statement wrote (see {@link EVENTS_OF}). */
  outbox_events?: OutboxEvent[];
}

/**
 * A row of {@link CREATE}: the device's delivery target, and the command's columns (all null when
 * none was inserted; its vendor is the target's).
 */
type RawCreated = Omit<RawCommand, 'id' | 'vendor'> & {
  id: string | null;
  target_vendor: string | null;
  target_external_id: string | null;
  target_site: string | null;
  target_integrations: DeliveryTarget['integrations'] | null;
  inline: boolean | null;
};

const fromRaw = (r: RawCommand): CommandRow => ({
  id: r.id,
  orgId: r.org_id,
  deviceId: r.device_id,
  vendor: r.vendor,
  breaker: r.breaker,
  action: r.action,
  params: r.params,
  status: r.status,
  reason: r.reason,
  attempts: r.attempts,
  idempotencyKey: r.idempotency_key,
  deadline: r.deadline,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const ISO = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The outbox rows of a command's transitions (`steps`: status, reason, ord): the payload of
 * {@link DeviceCommandTransitioned} (the e2e suite parses them with its schema), built by Postgres in the statement that makes the change.
 * A command passes through each status at most once, so (command, status) names the event; a
 * relay repeated after a crash is dropped by the stream's duplicate window.
 */
const TRANSITION_EVENTS = (row: string, previous: string, at: string) => `
  INSERT INTO device.outbox (subject, msg_id, payload)
  SELECT ${subjectSql(DeviceCommandTransitioned.subject, `${row}.org_id`, `${row}.device_id`, 'steps.s')},
         'device.command:' || ${row}.id || ':' || steps.s,
         jsonb_build_object('version', 1, 'org_id', ${row}.org_id, 'device_id', ${row}.device_id,
           'command_id', ${row}.id, 'action', ${row}.action, 'status', steps.s,
           'previous', coalesce(lag(steps.s) OVER (ORDER BY steps.ord), ${previous}),
           'reason', steps.r, 'attempts', ${row}.attempts, 'occurred_at', ${ISO(at)})
    FROM ${row}, steps ORDER BY steps.ord
  RETURNING id, subject, msg_id, payload`;

/**
 * The outbox rows the statement's `ctes` wrote, in id order, as one `outbox_events` column: the
 * caller hands them to `OutboxService.relayCommitted` after the commit.
 */
const EVENTS_OF = (...ctes: string[]) => `(
  SELECT coalesce(jsonb_agg(jsonb_build_object('id', e.id::text, 'subject', e.subject, 'msgId', e.msg_id,
                                               'payload', e.payload) ORDER BY e.id), '[]'::jsonb)
    FROM (${ctes.map((c) => `SELECT id, subject, msg_id, payload FROM ${c}`).join(' UNION ALL ')}) e
) AS outbox_events`;

/** Merges vendor-reported state into the shadow and publishes {@link DeviceStateReported}. */
const REPORTED_STATE = (row: string, reported: string, at: string) => `
st AS (
  INSERT INTO device.device_state (org_id, device_id, reported, reported_at)
  SELECT ${row}.org_id, ${row}.device_id, ${reported}, ${at} FROM ${row} WHERE ${reported} IS NOT NULL
  ON CONFLICT (org_id, device_id) DO UPDATE
    SET reported = device.device_state.reported || EXCLUDED.reported, reported_at = EXCLUDED.reported_at
), stev AS (
  INSERT INTO device.outbox (subject, msg_id, payload)
  SELECT ${subjectSql(DeviceStateReported.subject, `${row}.org_id`, `${row}.device_id`)},
         'device.state:' || ${row}.id || ':' || (extract(epoch FROM ${at}) * 1000)::bigint,
         jsonb_build_object('version', 1, 'org_id', ${row}.org_id, 'device_id', ${row}.device_id,
           'reported', ${reported}, 'command_id', ${row}.id, 'occurred_at', ${ISO(at)})
    FROM ${row} WHERE ${reported} IS NOT NULL
  RETURNING id, subject, msg_id, payload
)`;

// One statement, one round trip: reads the device's delivery target and stores the command, its
// first transition, its event and (for set_state) the desired state. The device row comes back
// even when nothing is inserted — its vendor is none this service delivers to ($10), or the
// idempotency key was used before — and no row at all when the device does not exist. The
// command's breaker is named here (see BREAKER_NAME_SQL); a command whose breaker lets calls
// through (not in $11) is tried by the submitting replica at once, so the poll leaves it alone
// for the lease ($12 ms).
const CREATE_SQL = `
WITH dev AS (
  SELECT d.vendor, d.external_id, d.site, s.integrations, ${BREAKER_NAME_SQL('d.vendor', '$2', 'd.site')} AS breaker
    FROM device.devices d LEFT JOIN device.sites s ON s.org_id = d.org_id AND s.id = d.site
   WHERE d.org_id = $2 AND d.id = $3
), ins AS (
  INSERT INTO device.commands (id, org_id, device_id, vendor, breaker, action, params, status, attempts,
                               idempotency_key, deadline, next_attempt_at, created_at, updated_at)
  SELECT $1, $2, $3, dev.vendor, dev.breaker, $4, $5, 'queued', 0, $6, $7,
         CASE WHEN $12 > 0 AND NOT (dev.breaker = ANY($11::text[])) THEN $8 + make_interval(secs => $12 / 1000.0)
              ELSE $8 END,
         $8, $8
    FROM dev WHERE dev.vendor = ANY($10::text[])
  ON CONFLICT (org_id, device_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING ${COLUMNS}, next_attempt_at > created_at AS inline
), steps AS (SELECT 'queued'::text AS s, NULL::text AS r, 1::bigint AS ord),
tr AS (
  INSERT INTO device.command_transitions (command_id, seq, status, reason, at)
  SELECT ins.id, 1, 'queued', NULL, $8 FROM ins
), ev AS (${TRANSITION_EVENTS('ins', 'NULL::text', '$8::timestamptz')}),
ds AS (
  INSERT INTO device.device_state (org_id, device_id, desired, desired_at)
  SELECT ins.org_id, ins.device_id, $9::jsonb, $8 FROM ins WHERE $9::jsonb IS NOT NULL
  ON CONFLICT (org_id, device_id) DO UPDATE
    SET desired = device.device_state.desired || EXCLUDED.desired, desired_at = EXCLUDED.desired_at
)
SELECT dev.vendor, dev.external_id, dev.site, dev.integrations, ins.id, ins.org_id, ins.device_id, ins.breaker,
       ins.action, ins.params, ins.status, ins.reason, ins.attempts, ins.idempotency_key, ins.deadline,
       ins.created_at, ins.updated_at, ins.inline, ${EVENTS_OF('ev')}
  FROM dev LEFT JOIN ins ON true`;

// One statement: lock the row if it is still in one of the `from` statuses (a concurrent
// transition makes it re-check and skip), update it, record each step and its event, and merge
// reported state. Autocommit: no BEGIN/COMMIT round trips.
const TRANSITION_SQL = `
WITH before AS (
  SELECT c.id, c.status FROM device.commands c
   WHERE c.id = $1 AND c.status = ANY($2::text[])
     AND ($12::text IS NULL OR (c.vendor = $12 AND EXISTS (
           SELECT 1 FROM device.devices d WHERE d.org_id = c.org_id AND d.id = c.device_id AND d.external_id = $13)))
     FOR UPDATE OF c
), upd AS (
  UPDATE device.commands c SET status = $3, reason = $4, attempts = c.attempts + $5,
         ack_deadline = $6, next_attempt_at = $7, updated_at = $8
    FROM before WHERE c.id = before.id
  RETURNING ${COLUMNS.split(',')
    .map((c) => `c.${c.trim()}`)
    .join(', ')}, before.status AS previous
), steps AS (
  SELECT x.s, x.r, x.ord FROM unnest($9::text[], $10::text[]) WITH ORDINALITY AS x(s, r, ord)
), tr AS (
  INSERT INTO device.command_transitions (command_id, seq, status, reason, at)
  SELECT upd.id, (SELECT coalesce(max(seq), 0) FROM device.command_transitions WHERE command_id = $1) + steps.ord,
         steps.s, steps.r, $8
    FROM upd, steps
), ev AS (${TRANSITION_EVENTS('upd', 'upd.previous', '$8::timestamptz')}),
${REPORTED_STATE('upd', '$11::jsonb', '$8::timestamptz')}
SELECT upd.*, ${EVENTS_OF('ev', 'stev')} FROM upd`;

/** Result columns of {@link COLUMNS} (as `RETURNS TABLE` of the stored statements). */
const COLUMN_TYPES = `id uuid, org_id text, device_id text, vendor text, breaker text, action text, params jsonb,
  status text, reason text, attempts integer, idempotency_key text, deadline timestamptz, created_at timestamptz,
  updated_at timestamptz`;

// The statements every command runs, planned once per server connection (see StoredStatement).
const CREATE = new StoredStatement<RawCreated>({
  schema: 'device',
  name: 'command_create',
  params: [
    'uuid',
    'text',
    'text',
    'text',
    'jsonb',
    'text',
    'timestamptz',
    'timestamptz',
    'jsonb',
    'text[]',
    'text[]',
    'integer',
  ],
  returns: `target_vendor text, target_external_id text, target_site text, target_integrations jsonb, id uuid,
    org_id text, device_id text, breaker text, action text, params jsonb, status text, reason text, attempts integer,
    idempotency_key text, deadline timestamptz, created_at timestamptz, updated_at timestamptz, inline boolean,
    outbox_events jsonb`,
  sql: CREATE_SQL,
});
const TRANSITION = new StoredStatement<RawCommand>({
  schema: 'device',
  name: 'command_transition',
  params: [
    'uuid',
    'text[]',
    'text',
    'text',
    'integer',
    'timestamptz',
    'timestamptz',
    'timestamptz',
    'text[]',
    'text[]',
    'jsonb',
    'text',
    'text',
  ],
  returns: `${COLUMN_TYPES}, previous text, outbox_events jsonb`,
  sql: TRANSITION_SQL,
});
const TARGET = new StoredStatement<{
  vendor: string | null;
  external_id: string | null;
  site: string | null;
  integrations: DeliveryTarget['integrations'] | null;
}>({
  schema: 'device',
  name: 'command_target',
  params: ['text', 'text'],
  returns: 'vendor text, external_id text, site text, integrations jsonb',
  sql: `SELECT d.vendor, d.external_id, d.site, s.integrations FROM device.devices d
          LEFT JOIN device.sites s ON s.org_id = d.org_id AND s.id = d.site
         WHERE d.org_id = $1 AND d.id = $2`,
});

/**
 * Persistent commands, their transitions and the device shadow. Every status change writes its
 * transition row and its `device.<org>.<device>.command.<status>` event (to the outbox) in the
 * same transaction as the change, so history, events and state never disagree.
 */
@Injectable()
export class CommandsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Reads the device's delivery target and, in the same statement, stores a new `queued` command
   * for it — or returns the command created earlier with the same idempotency key for the device
   * (`created: false`).
   */
  async create(
    scope: TenantScope,
    command: NewCommand,
    options: CreateOptions,
    now: Date,
  ): Promise<CreateResult> {
    const rows = await CREATE.query(rawPool(this.dataSource), [
      command.id,
      scope.orgId,
      command.deviceId,
      command.action,
      JSON.stringify(command.params),
      command.idempotencyKey,
      command.deadline,
      now,
      command.desired && Object.keys(command.desired).length > 0 ? JSON.stringify(command.desired) : null,
      options.vendors,
      options.blocked,
      options.inlineLeaseMs,
    ]);
    const found = rows[0];
    if (!found) return { kind: 'device_missing' };
    const target: DeliveryTarget = {
      vendor: found.target_vendor,
      externalId: found.target_external_id,
      site: found.target_site,
      integrations: found.target_integrations ?? {},
    };
    if (found.id !== null) {
      return {
        kind: 'stored',
        row: fromRaw({ ...found, id: found.id, vendor: target.vendor }),
        target,
        created: true,
        inline: found.inline === true,
        events: found.outbox_events ?? [],
      };
    }
    if (target.vendor === null || !options.vendors.includes(target.vendor))
      return { kind: 'vendor_unknown', target };
    const existing: RawCommand[] = command.idempotencyKey
      ? await this.dataSource.query(
          `SELECT ${COLUMNS} FROM device.commands WHERE org_id = $1 AND device_id = $2 AND idempotency_key = $3`,
          [scope.orgId, command.deviceId, command.idempotencyKey],
        )
      : [];
    // Nothing inserted for a known vendor and no command with the key: the device was deleted
    // between the statement's read and its insert.
    if (!existing[0]) return { kind: 'device_missing' };
    return { kind: 'stored', row: fromRaw(existing[0]), target, created: false, inline: false, events: [] };
  }

  /**
   * Claims up to `limit` due `queued` commands for delivery (skipping those other replicas hold
   * and those behind `blocked` breakers), pushing each one's `next_attempt_at` forward by
   * `leaseMs`: a replica that dies mid-attempt only delays the retry.
   */
  async claimDue(limit: number, leaseMs: number, blocked: readonly string[]): Promise<CommandRow[]> {
    const rows = rowsOf<RawCommand>(
      await this.dataSource.query(
        `WITH due AS (
         SELECT id FROM device.commands
          WHERE status = 'queued' AND next_attempt_at <= now() AND NOT (breaker = ANY($1::text[]))
          ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE device.commands c SET next_attempt_at = now() + make_interval(secs => $3 / 1000.0)
         FROM due WHERE c.id = due.id
       RETURNING ${COLUMNS.split(',')
         .map((c) => `c.${c.trim()}`)
         .join(', ')}`,
        [blocked, limit, leaseMs],
      ),
    );
    return rows.map(fromRaw).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** The device's vendor, vendor id and its site's integration settings (null: no such device). */
  async target(orgId: string, deviceId: string): Promise<DeliveryTarget | null> {
    const rows = await TARGET.query(rawPool(this.dataSource), [orgId, deviceId]);
    const row = rows[0];
    return row
      ? {
          vendor: row.vendor,
          externalId: row.external_id,
          site: row.site,
          integrations: row.integrations ?? {},
        }
      : null;
  }

  /**
   * Applies a {@link Transition} if the command is still in one of `from` (rows locked, so two
   * replicas or a late acknowledgement cannot both move it); returns the new row and the
   * outbox events it wrote, or null.
   */
  async transition(
    id: string,
    change: Transition,
    now = new Date(),
  ): Promise<{ row: CommandRow; events: readonly OutboxEvent[] } | null> {
    const to = change.to.at(-1);
    if (!to) return null;
    const reasons = change.to.map((_, i) => (i === change.to.length - 1 ? (change.reason ?? null) : null));
    const reported =
      change.reported && Object.keys(change.reported).length > 0 ? JSON.stringify(change.reported) : null;
    const rows = await TRANSITION.query(rawPool(this.dataSource), [
      id,
      change.from,
      to,
      change.reason ?? null,
      change.attempted ? 1 : 0,
      change.ackDeadline ?? null,
      change.nextAttemptAt ?? null,
      now,
      change.to,
      reasons,
      reported,
      change.sender?.vendor ?? null,
      change.sender?.externalId ?? null,
    ]);
    return rows[0] ? { row: fromRaw(rows[0]), events: rows[0].outbox_events ?? [] } : null;
  }

  /** Puts a claimed command back in the queue without a transition (breaker full, retry later). */
  async requeue(id: string, nextAttemptAt: Date, reason: string | null, attempted: boolean): Promise<void> {
    await this.dataSource.query(
      `UPDATE device.commands SET next_attempt_at = $2, reason = $3, attempts = attempts + $4, updated_at = now()
        WHERE id = $1 AND status = 'queued'`,
      [id, nextAttemptAt, reason, attempted ? 1 : 0],
    );
  }

  /** Ids of queued commands past their deadline (to expire) and sent ones past their ack deadline. */
  async overdue(limit: number): Promise<{ expired: string[]; timedOut: string[] }> {
    const expired: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM device.commands WHERE status = 'queued' AND deadline < now() ORDER BY deadline LIMIT $1`,
      [limit],
    );
    const timedOut: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM device.commands WHERE status IN ('sent', 'delivered') AND ack_deadline < now()
        ORDER BY ack_deadline LIMIT $1`,
      [limit],
    );
    return { expired: expired.map((r) => r.id), timedOut: timedOut.map((r) => r.id) };
  }

  async find(
    scope: TenantScope,
    deviceId: string,
    id: string,
  ): Promise<{ row: CommandRow; history: TransitionRow[] } | null> {
    const rows: RawCommand[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM device.commands WHERE org_id = $1 AND device_id = $2 AND id = $3`,
      [scope.orgId, deviceId, id],
    );
    if (!rows[0]) return null;
    const history: { status: CommandStatus; at: Date; reason: string | null }[] = await this.dataSource.query(
      `SELECT status, at, reason FROM device.command_transitions WHERE command_id = $1 ORDER BY seq`,
      [id],
    );
    return { row: fromRaw(rows[0]), history };
  }

  /** One page of a device's commands, oldest first, optionally of one status. */
  async list(
    scope: TenantScope,
    deviceId: string,
    query: Omit<ListCommandsQuery, 'cursor'> & { cursor?: CommandCursor },
  ): Promise<{ items: CommandRow[]; next?: CommandCursor }> {
    const values: unknown[] = [scope.orgId, deviceId];
    const where = ['org_id = $1', 'device_id = $2'];
    if (query.status) {
      values.push(query.status);
      where.push(`status = $${values.length}`);
    }
    if (query.cursor) {
      values.push(query.cursor.createdAt, query.cursor.id);
      where.push(`(created_at, id) > ($${values.length - 1}, $${values.length})`);
    }
    values.push(query.limit + 1);
    const rows: RawCommand[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM device.commands WHERE ${where.join(' AND ')}
        ORDER BY created_at, id LIMIT $${values.length}`,
      values,
    );
    const items = rows.slice(0, query.limit).map(fromRaw);
    const last = items.at(-1);
    return {
      items,
      next: rows.length > query.limit && last ? { createdAt: last.createdAt, id: last.id } : undefined,
    };
  }

  /** The stored shadow of a device (null when nothing was ever reported or desired). */
  async state(
    scope: TenantScope,
    deviceId: string,
  ): Promise<{
    reported: Record<string, unknown>;
    desired: Record<string, unknown>;
    reportedAt: Date | null;
    desiredAt: Date | null;
  } | null> {
    const rows: {
      reported: Record<string, unknown>;
      desired: Record<string, unknown>;
      reported_at: Date | null;
      desired_at: Date | null;
    }[] = await this.dataSource.query(
      `SELECT reported, desired, reported_at, desired_at FROM device.device_state WHERE org_id = $1 AND device_id = $2`,
      [scope.orgId, deviceId],
    );
    const row = rows[0];
    return row
      ? {
          reported: row.reported,
          desired: row.desired,
          reportedAt: row.reported_at,
          desiredAt: row.desired_at,
        }
      : null;
  }
}
