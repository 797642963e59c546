import { Injectable } from '@nestjs/common';
import type { TenantScope } from '@conduit/database';
import { DataSource } from 'typeorm';

/** What analytics knows of a device: the attributes rule scopes match on, and its status. */
export interface DeviceAttributes {
  readonly orgId: string;
  readonly deviceId: string;
  readonly type: string | null;
  readonly site: string | null;
  readonly tags: readonly string[];
}

/** A change from a DEVICE event, applied in stream order within a batch. */
export type DeviceChange =
  | {
      readonly kind: 'upsert';
      readonly attributes: DeviceAttributes;
      readonly status: string;
      readonly at: Date;
    }
  | {
      readonly kind: 'status';
      readonly orgId: string;
      readonly deviceId: string;
      readonly status: string;
      readonly at: Date;
    }
  | { readonly kind: 'delete'; readonly orgId: string; readonly deviceId: string };

/**
 * `analytics.devices`: analytics' own projection of device-control's registry, fed by DEVICE
 * events (analytics never reads the `device` schema). Writes only move forward in event time
 * (`updated_at`), so a replayed older event cannot undo a newer one.
 */
@Injectable()
export class DevicesRepository {
  constructor(private readonly dataSource: DataSource) {}

  async apply(changes: readonly DeviceChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.dataSource.transaction(async (tx) => {
      for (const c of changes) {
        switch (c.kind) {
          case 'upsert':
            await tx.query(
              `INSERT INTO analytics.devices AS d (org_id, device_id, type, site, tags, status, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (org_id, device_id) DO UPDATE
                 SET type = EXCLUDED.type, site = EXCLUDED.site, tags = EXCLUDED.tags, status = EXCLUDED.status,
                     updated_at = EXCLUDED.updated_at
               WHERE d.updated_at <= EXCLUDED.updated_at`,
              [
                c.attributes.orgId,
                c.attributes.deviceId,
                c.attributes.type,
                c.attributes.site,
                c.attributes.tags,
                c.status,
                c.at,
              ],
            );
            break;
          case 'status':
            await tx.query(
              `INSERT INTO analytics.devices AS d (org_id, device_id, status, updated_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (org_id, device_id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
               WHERE d.updated_at <= EXCLUDED.updated_at`,
              [c.orgId, c.deviceId, c.status, c.at],
            );
            break;
          case 'delete':
            await tx.query(`DELETE FROM analytics.devices WHERE org_id = $1 AND device_id = $2`, [
              c.orgId,
              c.deviceId,
            ]);
            break;
        }
      }
    });
  }

  /** Attributes of the given devices (unknown devices are absent). */
  async attributes(keys: readonly { orgId: string; deviceId: string }[]): Promise<DeviceAttributes[]> {
    if (keys.length === 0) return [];
    const rows: {
      org_id: string;
      device_id: string;
      type: string | null;
      site: string | null;
      tags: string[];
    }[] = await this.dataSource.query(
      `SELECT d.org_id, d.device_id, d.type, d.site, d.tags FROM analytics.devices d
           JOIN unnest($1::text[], $2::text[]) AS k(o, i) ON d.org_id = k.o AND d.device_id = k.i`,
      [keys.map((k) => k.orgId), keys.map((k) => k.deviceId)],
    );
    return rows.map((r) => ({
      orgId: r.org_id,
      deviceId: r.device_id,
      type: r.type,
      site: r.site,
      tags: r.tags,
    }));
  }

  /** Devices per status (`online`, `offline`, `unknown`). */
  async statusCounts(scope: TenantScope): Promise<Record<string, number>> {
    const rows: { status: string; n: number }[] = await this.dataSource.query(
      `SELECT status, count(*)::int AS n FROM analytics.devices WHERE org_id = $1 GROUP BY 1`,
      [scope.orgId],
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}
