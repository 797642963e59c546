import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Inject, Injectable } from '@nestjs/common';
import {
  TelemetryRequests,
  type Command,
  type CommandAccepted,
  type CommandPage,
  type CommandStatus,
  type CreateCommandBody,
  type DeviceState,
  type ListCommandsQuery,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { RpcClient, RpcError } from '@conduit/messaging';
import { OutboxService, SERVICE_CONFIG } from '@conduit/runtime';
import type { DeviceControlConfig } from '../config/device-control.config.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { CommandDispatchService } from './command-dispatch.service.js';
import {
  CommandsRepository,
  decodeCommandCursor,
  encodeCommandCursor,
  type CommandRow,
  type TransitionRow,
} from './commands.repository.js';

/** Commands whose `params` become the device's desired state. */
export const SET_STATE_ACTION = 'set_state';

/** How long the shadow waits for telemetry's latest values before answering without them. */
const LATEST_TIMEOUT_MS = 500;

const commandToWire = (row: CommandRow): Omit<Command, 'history'> => ({
  id: row.id,
  org_id: row.orgId,
  device_id: row.deviceId,
  action: row.action,
  params: row.params,
  status: row.status,
  reason: row.reason,
  attempts: row.attempts,
  idempotency_key: row.idempotencyKey,
  deadline: row.deadline.toISOString(),
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});

const historyToWire = (h: TransitionRow) => ({ status: h.status, at: h.at.toISOString(), reason: h.reason });

/** Desired keys whose reported value differs or is missing. */
export function shadowDelta(
  desired: Record<string, unknown>,
  reported: Record<string, unknown>,
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(desired).filter(([k, v]) => !isDeepStrictEqual(reported[k], v)));
}

@Injectable()
export class CommandsService {
  constructor(
    private readonly commands: CommandsRepository,
    private readonly devices: DevicesRepository,
    private readonly dispatch: CommandDispatchService,
    private readonly relay: OutboxService,
    private readonly rpc: RpcClient,
    @Inject(SERVICE_CONFIG) private readonly config: DeviceControlConfig,
  ) {}

  /**
   * Accepts a command: stored `queued` (with its event) before anything else, so it is never
   * lost. When the device's breaker lets calls through, this replica tries it at once and
   * answers with the status reached within DEVICE_COMMAND_ANSWER_WAIT_MS; while it is open the
   * answer is `queued` at once and the dispatcher delivers it when the breaker half-opens.
   */
  async create(
    scope: TenantScope,
    deviceId: string,
    body: CreateCommandBody,
    idempotencyKey?: string,
  ): Promise<CommandAccepted> {
    const { ttlS, answerWaitMs } = this.config.service.commands;
    const now = new Date();
    const result = await this.commands.create(
      scope,
      {
        id: randomUUID(),
        deviceId,
        action: body.action,
        params: body.params,
        idempotencyKey: idempotencyKey ?? null,
        deadline: new Date(now.getTime() + (body.ttl_s ?? ttlS) * 1000),
        desired: body.action === SET_STATE_ACTION ? body.params : undefined,
      },
      {
        vendors: this.dispatch.vendors(),
        blocked: this.dispatch.blockedBreakers(),
        // Tried here at once (the poll leaves it alone for the lease) unless its breaker is open.
        inlineLeaseMs: answerWaitMs > 0 ? this.dispatch.inlineLeaseMs : 0,
      },
      now,
    );
    if (result.kind === 'device_missing') throw new RpcError('not_found', `device ${deviceId} not found`);
    if (result.kind === 'vendor_unknown') {
      throw new RpcError(
        'conflict',
        `device ${deviceId} has vendor ${result.target.vendor ?? '(none)'}, which no integration handles (known: ${this.dispatch.vendors().join(', ')})`,
        [{ field: 'vendor', message: 'set the device vendor to a known integration' }],
      );
    }
    this.relay.relayCommitted(result.events);
    const { row, created } = result;
    if (!created || !result.inline) return { command_id: row.id, status: row.status, created };
    let timer: NodeJS.Timeout | undefined;
    const status = await Promise.race([
      this.dispatch.deliverNow(row, result.target),
      new Promise<CommandStatus>((resolve) => (timer = setTimeout(() => resolve('queued'), answerWaitMs))),
    ]).finally(() => clearTimeout(timer));
    return { command_id: row.id, status, created };
  }

  async get(scope: TenantScope, deviceId: string, id: string): Promise<Command> {
    const found = await this.commands.find(scope, deviceId, id);
    if (!found) throw new RpcError('not_found', `command ${id} of device ${deviceId} not found`);
    return { ...commandToWire(found.row), history: found.history.map(historyToWire) };
  }

  async list(scope: TenantScope, deviceId: string, query: ListCommandsQuery): Promise<CommandPage> {
    const cursor = query.cursor === undefined ? undefined : decodeCommandCursor(query.cursor);
    if (query.cursor !== undefined && !cursor) {
      throw new RpcError('validation_failed', 'invalid cursor', [
        { field: 'cursor', message: 'not a cursor returned by next_cursor' },
      ]);
    }
    const page = await this.commands.list(scope, deviceId, { ...query, cursor });
    return {
      data: page.items.map(commandToWire),
      next_cursor: page.next ? encodeCommandCursor(page.next) : null,
    };
  }

  /**
   * The device shadow: `reported` is the latest telemetry value of each metric, overlaid with
   * the state vendors acknowledged; `desired` comes from `set_state` commands.
   */
  async state(scope: TenantScope, deviceId: string): Promise<DeviceState> {
    const device = await this.devices.findById(scope, deviceId);
    if (!device) throw new RpcError('not_found', `device ${deviceId} not found`);
    const [stored, latest] = await Promise.all([
      this.commands.state(scope, deviceId),
      this.rpc
        .request(
          TelemetryRequests.latest,
          { org_id: scope.orgId, device_id: deviceId },
          { orgId: scope.orgId, timeoutMs: LATEST_TIMEOUT_MS },
        )
        .then((r) => r.data)
        // Telemetry down or slow: the shadow still answers with what device-control knows.
        .catch(() => []),
    ]);
    const fromTelemetry = Object.fromEntries(latest.map((p) => [p.metric, p.value]));
    const reported = { ...fromTelemetry, ...(stored?.reported ?? {}) };
    const desired = stored?.desired ?? {};
    const times = [
      ...latest.map((p) => Date.parse(p.ts)),
      stored?.reportedAt?.getTime() ?? Number.NaN,
    ].filter(Number.isFinite);
    return {
      device_id: deviceId,
      reported,
      desired,
      delta: shadowDelta(desired, reported),
      reported_at: times.length ? new Date(Math.max(...times)).toISOString() : null,
      desired_at: stored?.desiredAt?.toISOString() ?? null,
    };
  }
}
