import { Injectable } from '@nestjs/common';
import { DeviceStatusChanged } from '@conduit/contracts';
import { subjectSql } from '@conduit/runtime';
import { DataSource } from 'typeorm';

/** Devices heard from: org, device and when (the time JetStream received their telemetry). */
export interface Sighting {
  readonly orgId: string;
  readonly deviceId: string;
  readonly at: Date;
}

// Status events go into the outbox in the same statement as the change, so they are published
// exactly when the change commits. Rows are locked in key order: replicas never deadlock.
const STATUS_EVENT = (status: string) => `
  INSERT INTO device.outbox (subject, msg_id, payload)
  SELECT ${subjectSql(DeviceStatusChanged.subject, 'c.org_id', 'c.id')},
         c.org_id || '.' || c.id || '.${status}.' || (extract(epoch FROM c.last_seen) * 1000)::bigint,
         jsonb_build_object(
           'version', 1, 'org_id', c.org_id, 'device_id', c.id, 'status', '${status}',
           'previous', c.previous,
           'last_seen', to_char(c.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'occurred_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
    FROM changed c`;

const SEEN_SQL = `
WITH seen AS (
  SELECT o, d, max(t) AS at FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS x(o, d, t) GROUP BY o, d
), locked AS (
  SELECT dv.org_id, dv.id, dv.status, seen.at FROM device.devices dv
    JOIN seen ON dv.org_id = seen.o AND dv.id = seen.d
   ORDER BY dv.org_id, dv.id FOR UPDATE OF dv
), upd AS (
  UPDATE device.devices dv SET last_seen = GREATEST(dv.last_seen, locked.at), status = 'online'
    FROM locked WHERE dv.org_id = locked.org_id AND dv.id = locked.id
  RETURNING dv.org_id, dv.id, dv.last_seen, locked.status AS previous
), changed AS (SELECT * FROM upd WHERE previous <> 'online'),
ev AS (${STATUS_EVENT('online')})
SELECT (SELECT count(*) FROM upd)::int AS updated, (SELECT count(*) FROM changed)::int AS online`;

const OFFLINE_SQL = `
WITH changed AS (
  UPDATE device.devices SET status = 'offline'
   WHERE status = 'online' AND last_seen < now() - make_interval(secs => $1)
  RETURNING org_id, id, last_seen, 'online'::text AS previous
), ev AS (${STATUS_EVENT('offline')})
SELECT count(*)::int AS offline FROM changed`;

/**
 * `last_seen` and `status` from telemetry: one statement per batch of sightings (not an UPDATE
 * per point or message), and the sweep that turns silent devices offline. Both write their
 * `device.<org>.<id>.status_changed` events to the outbox in the same statement.
 */
@Injectable()
export class PresenceRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Records sightings; returns devices updated and devices that came online. */
  async seen(sightings: readonly Sighting[]): Promise<{ updated: number; online: number }> {
    if (sightings.length === 0) return { updated: 0, online: 0 };
    const rows: { updated: number; online: number }[] = await this.dataSource.query(SEEN_SQL, [
      sightings.map((s) => s.orgId),
      sightings.map((s) => s.deviceId),
      sightings.map((s) => s.at.toISOString()),
    ]);
    return rows[0] ?? { updated: 0, online: 0 };
  }

  /** Turns online devices silent for `afterS` seconds offline; returns how many. */
  async sweepOffline(afterS: number): Promise<number> {
    const rows: { offline: number }[] = await this.dataSource.query(OFFLINE_SQL, [afterS]);
    return rows[0]?.offline ?? 0;
  }
}
