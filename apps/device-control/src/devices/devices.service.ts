import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  DeviceDeleted,
  DeviceRegistered,
  DeviceUpdated,
  type UpdateDeviceBody,
  type CreateDeviceBody,
  type Device,
  type DevicePage,
  type ListDevicesQuery,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { JsonText, RpcError } from '@conduit/messaging';
import type { DeviceEntity } from './device.entity.js';
import { DeviceExistsError, DevicesRepository, decodeCursor, encodeCursor } from './devices.repository.js';
import { OutboxRepository, OutboxService } from '@conduit/runtime';

/** Maps a stored device to its wire form (snake_case, ISO-8601 times). */
export function toWire(d: DeviceEntity): Device {
  return {
    id: d.id,
    org_id: d.orgId,
    name: d.name,
    site: d.site,
    type: d.type,
    vendor: d.vendor,
    external_id: d.externalId,
    status: d.status,
    last_seen: d.lastSeen ? d.lastSeen.toISOString() : null,
    tags: d.tags,
    metadata: d.metadata,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}

@Injectable()
export class DevicesService {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxService,
  ) {}

  /** Registers a device and, in the same transaction, its `device.<org>.<id>.registered` event. */
  async create(scope: TenantScope, body: CreateDeviceBody): Promise<Device> {
    const now = new Date();
    const id = body.id ?? randomUUID();
    let device: Device;
    try {
      device = await this.devices.transaction(async (tx) => {
        const created = toWire(
          await this.devices.insert(
            tx,
            scope,
            {
              id,
              name: body.name,
              site: body.site ?? null,
              type: body.type,
              vendor: body.vendor ?? null,
              externalId: body.external_id ?? null,
              tags: body.tags,
              metadata: body.metadata,
            },
            now,
          ),
        );
        await this.outbox.add(tx, {
          subject: DeviceRegistered.subject(scope.orgId, id),
          msgId: `device.registered:${scope.orgId}:${id}`,
          payload: DeviceRegistered.schema.parse({
            version: 1,
            device: created,
            occurred_at: now.toISOString(),
          }),
        });
        return created;
      });
    } catch (error) {
      if (error instanceof DeviceExistsError) throw new RpcError('conflict', error.message);
      throw error;
    }
    this.relay.flushSoon();
    return device;
  }

  /** Changes registry fields and, in the same transaction, publishes `…updated` with the new device. */
  async update(scope: TenantScope, id: string, changes: UpdateDeviceBody): Promise<Device> {
    const now = new Date();
    const device = await this.devices.transaction(async (tx) => {
      const updated = await this.devices.update(
        tx,
        scope,
        id,
        {
          name: changes.name,
          site: changes.site,
          type: changes.type,
          vendor: changes.vendor,
          externalId: changes.external_id,
          tags: changes.tags,
          metadata: changes.metadata,
        },
        now,
      );
      if (!updated) return null;
      const wire = toWire(updated);
      await this.outbox.add(tx, {
        subject: DeviceUpdated.subject(scope.orgId, id),
        msgId: `device.updated:${scope.orgId}:${id}:${now.getTime()}`,
        payload: DeviceUpdated.schema.parse({
          version: 1,
          device: wire,
          changed: Object.keys(changes),
          occurred_at: now.toISOString(),
        }),
      });
      return wire;
    });
    if (!device) throw new RpcError('not_found', `device ${id} not found`);
    this.relay.flushSoon();
    return device;
  }

  /** Removes a device, its commands and its shadow; publishes `…deleted`. */
  async delete(scope: TenantScope, id: string): Promise<{ deleted: true }> {
    const now = new Date();
    const deleted = await this.devices.transaction(async (tx) => {
      if (!(await this.devices.delete(tx, scope, id))) return false;
      await this.outbox.add(tx, {
        subject: DeviceDeleted.subject(scope.orgId, id),
        msgId: `device.deleted:${scope.orgId}:${id}:${now.getTime()}`,
        payload: DeviceDeleted.schema.parse({
          version: 1,
          org_id: scope.orgId,
          device_id: id,
          occurred_at: now.toISOString(),
        }),
      });
      return true;
    });
    if (!deleted) throw new RpcError('not_found', `device ${id} not found`);
    this.relay.flushSoon();
    return { deleted: true };
  }

  async get(scope: TenantScope, id: string): Promise<Device> {
    const found = await this.devices.findById(scope, id);
    if (!found) throw new RpcError('not_found', `device ${id} not found`);
    return toWire(found);
  }

  async list(scope: TenantScope, query: ListDevicesQuery): Promise<JsonText<DevicePage>> {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !cursor) {
      throw new RpcError('validation_failed', 'invalid cursor', [
        { field: 'cursor', message: 'not a cursor returned by next_cursor' },
      ]);
    }
    const page = await this.devices.listJson(scope, { ...query, cursor });
    const next = page.next ? JSON.stringify(encodeCursor(page.next)) : 'null';
    return new JsonText(`{"data":[${page.items.join(',')}],"next_cursor":${next}}`);
  }
}
