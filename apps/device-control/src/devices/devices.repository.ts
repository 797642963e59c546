import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { DeviceStatus } from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
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

  async findById(scope: TenantScope, id: string): Promise<DeviceEntity | null> {
    return this.dataSource.getRepository(DeviceEntity).findOneBy({ orgId: scope.orgId, id });
  }

  /** One page in (created_at, id) order; fetches one extra row to know whether more follow. */
  async list(
    scope: TenantScope,
    filter: DeviceListFilter,
  ): Promise<{ rows: DeviceEntity[]; next?: DeviceCursor }> {
    const qb = this.dataSource
      .getRepository(DeviceEntity)
      .createQueryBuilder('d')
      .where('d.org_id = :orgId', { orgId: scope.orgId })
      .orderBy('d.created_at', 'ASC')
      .addOrderBy('d.id', 'ASC')
      .limit(filter.limit + 1);
    if (filter.site !== undefined) qb.andWhere('d.site = :site', { site: filter.site });
    if (filter.type !== undefined) qb.andWhere('d.type = :type', { type: filter.type });
    if (filter.status !== undefined) qb.andWhere('d.status = :status', { status: filter.status });
    if (filter.cursor) {
      qb.andWhere('(d.created_at, d.id) > (:createdAt, :id)', {
        createdAt: filter.cursor.createdAt,
        id: filter.cursor.id,
      });
    }
    const rows = await qb.getMany();
    if (rows.length <= filter.limit) return { rows };
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return { rows: page, next: last && { createdAt: last.createdAt, id: last.id } };
  }

  /** Runs `work` in one transaction (the device row and its outbox event commit together). */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
