import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { DeviceStatus } from '@conduit/contracts';
import { rawPool, rowsOf, type TenantScope } from '@conduit/database';
import { DeviceEntity } from './device.entity.js';

/** Filters and page of a device listing. */
export interface DeviceListFilter {
  readonly site?: string;
  readonly type?: string;
  readonly status?: DeviceStatus;
  readonly limit: number;
  readonly cursor?: DeviceCursor;
}

/** Keyset position: the (created_at, id) of the last row of the previous page. */
export interface DeviceCursor {
  readonly createdAt: Date;
  readonly id: string;
}

export type NewDevice = Omit<DeviceEntity, 'orgId' | 'status' | 'lastSeen' | 'createdAt' | 'updatedAt'>;

/** Thrown when a device id is taken within the org. */
export class DeviceExistsError extends Error {
  constructor(readonly id: string) {
    super(`device ${id} already exists`);
    this.name = 'DeviceExistsError';
  }
}

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A device row as its wire JSON (see `deviceSchema` in contracts), built by Postgres. */
const DEVICE_JSON = `json_build_object(
  'id', id, 'org_id', org_id, 'name', name, 'site', site, 'type', type, 'vendor', vendor,
  'external_id', external_id, 'status', status, 'last_seen', ${iso('last_seen')}, 'tags', tags,
  'metadata', metadata, 'created_at', ${iso('created_at')}, 'updated_at', ${iso('updated_at')})::text`;

/** Opaque cursor: base64url of `<created_at ms>.<id>` (ids are subject tokens: no dots). */
export function encodeCursor(c: DeviceCursor): string {
  return Buffer.from(`${c.createdAt.getTime()}.${c.id}`).toString('base64url');
}

/** Decodes {@link encodeCursor}; `undefined` for anything malformed. */
export function decodeCursor(raw: string): DeviceCursor | undefined {
  const text = Buffer.from(raw, 'base64url').toString();
  const dot = text.indexOf('.');
  const ms = Number(text.slice(0, dot));
  const id = text.slice(dot + 1);
  if (dot <= 0 || !Number.isSafeInteger(ms) || id.length === 0) return undefined;
  return { createdAt: new Date(ms), id };
}

@Injectable()
export class DevicesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Inserts a device inside `tx` (the caller's transaction). `created_at` is set here with
   * millisecond precision so that cursors (which carry milliseconds) compare exactly.
   */
  async insert(tx: EntityManager, scope: TenantScope, device: NewDevice, now: Date): Promise<DeviceEntity> {
    const entity = tx.create(DeviceEntity, {
      ...device,
      orgId: scope.orgId,
      status: 'unknown',
      lastSeen: null,
      createdAt: now,
      updatedAt: now,
    });
    try {
      await tx.getRepository(DeviceEntity).insert(entity as never);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new DeviceExistsError(device.id);
      throw error;
    }
    return entity;
  }

  /**
   * Changes registry fields inside `tx`; `undefined` fields stay, `null` clears. Returns the new
   * row, or null when the device does not exist.
   */
  async update(
    tx: EntityManager,
    scope: TenantScope,
    id: string,
    changes: Partial<
      Pick<DeviceEntity, 'name' | 'site' | 'type' | 'vendor' | 'externalId' | 'tags' | 'metadata'>
    >,
    now: Date,
  ): Promise<DeviceEntity | null> {
    const set = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    const result = await tx
      .createQueryBuilder()
      .update(DeviceEntity)
      .set({ ...set, updatedAt: now })
      .where('org_id = :org AND id = :id', { org: scope.orgId, id })
      .execute();
    if (!result.affected) return null;
    return tx.getRepository(DeviceEntity).findOneBy({ orgId: scope.orgId, id });
  }

  /** Deletes a device with its commands and shadow inside `tx`; false when it did not exist. */
  async delete(tx: EntityManager, scope: TenantScope, id: string): Promise<boolean> {
    const rows = rowsOf(
      await tx.query(`DELETE FROM device.devices WHERE org_id = $1 AND id = $2 RETURNING id`, [
        scope.orgId,
        id,
      ]),
    );
    if (rows.length === 0) return false;
    await tx.query(`DELETE FROM device.commands WHERE org_id = $1 AND device_id = $2`, [scope.orgId, id]);
    await tx.query(`DELETE FROM device.device_state WHERE org_id = $1 AND device_id = $2`, [scope.orgId, id]);
    return true;
  }

  async findById(scope: TenantScope, id: string): Promise<DeviceEntity | null> {
    return this.dataSource.getRepository(DeviceEntity).findOneBy({ orgId: scope.orgId, id });
  }

  /**
   * One page as JSON text per device, built by Postgres in the wire format (the hot read path:
   * no entity hydration, no re-serialisation). Pages in (created_at, id) order,
   * fetching one extra row to know whether more follow.
   */
  async listJson(
    scope: TenantScope,
    filter: DeviceListFilter,
  ): Promise<{ items: string[]; next?: DeviceCursor }> {
    const where = ['org_id = $1'];
    const values: unknown[] = [scope.orgId];
    const add = (sql: string, value: unknown) => {
      values.push(value);
      where.push(sql.replace('?', `$${values.length}`));
    };
    if (filter.site !== undefined) add('site = ?', filter.site);
    if (filter.type !== undefined) add('type = ?', filter.type);
    if (filter.status !== undefined) add('status = ?', filter.status);
    if (filter.cursor) {
      values.push(filter.cursor.createdAt, filter.cursor.id);
      where.push(`(created_at, id) > ($${values.length - 1}, $${values.length})`);
    }
    values.push(filter.limit + 1);
    const { rows } = await rawPool(this.dataSource).query<{ id: string; ms: string; j: string }>(
      `SELECT id, (extract(epoch FROM created_at) * 1000)::bigint AS ms, ${DEVICE_JSON} AS j
         FROM device.devices WHERE ${where.join(' AND ')}
        ORDER BY created_at, id LIMIT $${values.length}`,
      values,
    );
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => r.j),
      next:
        rows.length > filter.limit && last
          ? { createdAt: new Date(Number(last.ms)), id: last.id }
          : undefined,
    };
  }

  /** Runs `work` in one transaction (the device row and its outbox event commit together). */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
