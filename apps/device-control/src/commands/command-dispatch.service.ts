import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { BreakerOpenError, type BreakerRegistry } from '@conduit/breakers';
import { commandIdSchema, type CommandStatus } from '@conduit/contracts';
import { OutboxService, SERVICE_CONFIG } from '@conduit/runtime';
import type { DeviceControlConfig } from '../config/device-control.config.js';
import type { VendorAck, VendorAdapter } from '../vendors/vendor.adapter.js';
import { VENDOR_ADAPTERS, VENDOR_BREAKERS } from '../vendors/vendors.module.js';
import {
  CommandsRepository,
  type CommandRow,
  type DeliveryTarget,
  type Transition,
} from './commands.repository.js';

const MAX_RETRY_DELAY_MS = 60_000;
const SWEEP_BATCH = 200;

/** Jittered exponential back-off: base·2^(n-1), ±20 %, capped. */
export const retryDelayMs = (baseMs: number, attempt: number, random = Math.random): number =>
  Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempt - 1)) * (0.8 + 0.4 * random());

/**
 * Delivers queued commands to their vendors, through each dependency's breaker, and moves
 * them through their lifecycle. Work comes from Postgres, not memory: every replica polls for
 * due commands (claimed with `FOR UPDATE SKIP LOCKED` and a lease), so a command survives any
 * restart and is delivered by exactly one replica at a time. Commands behind an open breaker
 * are not claimed at all; when the breaker half-opens the next poll lets its trial through.
 */
@Injectable()
export class CommandDispatchService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(CommandDispatchService.name);
  private readonly adapters: ReadonlyMap<string, VendorAdapter>;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly leaseMs: number;
  private timer?: NodeJS.Timeout;
  private polling = false;
  private stopped = false;

  constructor(
    private readonly commands: CommandsRepository,
    private readonly relay: OutboxService,
    @Inject(VENDOR_ADAPTERS) adapters: readonly VendorAdapter[],
    @Inject(VENDOR_BREAKERS) private readonly breakers: BreakerRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: DeviceControlConfig,
  ) {
    this.adapters = new Map(adapters.map((a) => [a.name, a]));
    // Long enough for a call that runs to the breaker's time-out, twice over.
    this.leaseMs = 2 * config.service.vendors.breaker.timeoutMs + 5_000;
  }

  /** Names of the vendor integrations this service can deliver to. */
  vendors(): string[] {
    return [...this.adapters.keys()];
  }

  /** Breakers that would not let a call through now (open, or half-open with no trial free). */
  blockedBreakers(): string[] {
    return this.breakers.refusing();
  }

  /** The lease a submitting replica takes when it tries a new command at once. */
  get inlineLeaseMs(): number {
    return this.leaseMs;
  }

  onApplicationBootstrap(): void {
    for (const adapter of this.adapters.values()) {
      // Not awaited: a broker that is down at boot must not keep the service from starting;
      // its commands queue up and its breaker decides when to try again.
      adapter
        .start((ack) => void this.onAck(adapter.name, ack))
        .catch((error: unknown) =>
          this.logger.warn(`vendor ${adapter.name} did not start: ${String(error)}`),
        );
    }
    this.timer = setInterval(() => void this.tick(), this.config.service.commands.pollMs);
    this.timer.unref();
  }

  // Before the pools close (onApplicationShutdown): attempts in flight still record their outcome.
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    await Promise.allSettled([...this.adapters.values()].map((a) => a.stop()));
  }

  /** One attempt at `command` right away (the submitting request awaits it briefly). */
  deliverNow(command: CommandRow, target: DeliveryTarget): Promise<CommandStatus> {
    return this.track(this.attempt(command, target));
  }

  /** Sweeps deadlines, then claims and starts due commands up to the concurrency limit. */
  async tick(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      await this.sweep();
      const free = this.config.service.commands.concurrency - this.inFlight.size;
      if (free <= 0) return;
      const claimed = await this.commands.claimDue(free, this.leaseMs, this.blockedBreakers());
      for (const command of claimed) void this.track(this.attempt(command));
    } catch (error) {
      this.logger.warn(`command poll failed: ${String(error)}`);
    } finally {
      this.polling = false;
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  private async sweep(): Promise<void> {
    const { expired, timedOut } = await this.commands.overdue(SWEEP_BATCH);
    for (const id of expired) {
      await this.move(id, { from: ['queued'], to: ['expired'], reason: 'deadline passed before delivery' });
    }
    for (const id of timedOut) {
      await this.move(id, {
        from: ['sent', 'delivered'],
        to: ['timeout'],
        reason: `no acknowledgement within ${this.config.service.commands.ackTimeoutMs} ms`,
      });
    }
  }

  private async move(id: string, change: Transition): Promise<CommandRow | null> {
    const moved = await this.commands.transition(id, change);
    if (!moved) return null;
    this.relay.relayCommitted(moved.events);
    return moved.row;
  }

  /** One delivery attempt; resolves with the command's status afterwards. Never rejects. */
  private async attempt(command: CommandRow, known?: DeliveryTarget): Promise<CommandStatus> {
    const { maxAttempts, retryBaseMs, ackTimeoutMs } = this.config.service.commands;
    try {
      if (command.deadline.getTime() <= Date.now()) {
        const row = await this.move(command.id, {
          from: ['queued'],
          to: ['expired'],
          reason: 'deadline passed before delivery',
        });
        return row?.status ?? 'expired';
      }
      const adapter = command.vendor ? this.adapters.get(command.vendor) : undefined;
      const target = known ?? (await this.commands.target(command.orgId, command.deviceId));
      const refusal = !adapter
        ? `no integration for vendor ${command.vendor ?? '(none)'}`
        : !target
          ? 'device no longer exists'
          : !target.externalId
            ? 'device has no external_id'
            : undefined;
      if (!adapter || !target?.externalId || refusal) {
        const row = await this.move(command.id, {
          from: ['queued'],
          to: ['failed'],
          reason: refusal ?? null,
        });
        return row?.status ?? 'failed';
      }
      const externalId = target.externalId;
      let result;
      try {
        result = await this.breakers.get(command.breaker).fire((signal) =>
          adapter.deliver(
            {
              commandId: command.id,
              orgId: command.orgId,
              deviceId: command.deviceId,
              externalId,
              site: target.site,
              action: command.action,
              params: command.params,
              attempt: command.attempts + 1,
              settings: target.integrations[adapter.name] ?? {},
            },
            signal,
          ),
        );
      } catch (error) {
        if (error instanceof BreakerOpenError) {
          // Not an attempt: the vendor was not called. Back in the queue; the poll skips it while
          // the breaker stays open and offers it again when the breaker half-opens.
          await this.commands.requeue(command.id, new Date(), `breaker ${command.breaker} open`, false);
          return 'queued';
        }
        const attempts = command.attempts + 1;
        const reason = (error as Error).message;
        if (attempts >= maxAttempts) {
          const row = await this.move(command.id, {
            from: ['queued'],
            to: ['failed'],
            attempted: true,
            reason: `vendor unavailable after ${attempts} attempts: ${reason}`,
          });
          return row?.status ?? 'failed';
        }
        await this.commands.requeue(
          command.id,
          new Date(Date.now() + retryDelayMs(retryBaseMs, attempts)),
          reason,
          true,
        );
        return 'queued';
      }
      const change: Transition =
        result.kind === 'sent'
          ? {
              from: ['queued'],
              to: ['sent'],
              attempted: true,
              ackDeadline: new Date(Date.now() + ackTimeoutMs),
            }
          : {
              from: ['queued'],
              to: result.outcome === 'succeeded' ? ['sent', 'delivered', 'succeeded'] : ['sent', 'failed'],
              attempted: true,
              reason: result.reason ?? null,
              reported: result.reported,
            };
      const row = await this.move(command.id, change);
      // null: an acknowledgement overtook this attempt's own bookkeeping; read what it left.
      return row?.status ?? (await this.statusOf(command));
    } catch (error) {
      // Postgres unreachable or similar: the lease runs out and a poll tries again.
      this.logger.warn(`command ${command.id}: ${String(error)}`);
      return 'queued';
    }
  }

  private async statusOf(command: CommandRow): Promise<CommandStatus> {
    const found = await this.commands.find({ orgId: command.orgId }, command.deviceId, command.id);
    return found?.row.status ?? command.status;
  }

  /** An acknowledgement from a vendor that answers asynchronously (MQTT). */
  private async onAck(vendor: string, ack: VendorAck): Promise<void> {
    // Command ids are UUIDs (the column type too): anything else in an ack names no command.
    if (!commandIdSchema.safeParse(ack.commandId).success) {
      this.logger.debug(`${vendor} ack from ${ack.externalId} ignored: ${ack.commandId} is no command id`);
      return;
    }
    const { ackTimeoutMs } = this.config.service.commands;
    const final: CommandStatus[] = ack.outcome === 'delivered' ? [] : [ack.outcome];
    const common = {
      sender: { vendor, externalId: ack.externalId },
      reason: ack.reason ?? null,
      reported: ack.reported,
      ackDeadline: final.length ? null : new Date(Date.now() + ackTimeoutMs),
    };
    // Whatever the command's status, the ack moves it through the statuses it has not yet had:
    // from `queued` too, when the ack overtook the attempt's own write of `sent`.
    const paths: Transition[] = [
      { ...common, from: ['sent'], to: ['delivered', ...final] },
      { ...common, from: ['queued'], to: ['sent', 'delivered', ...final] },
    ];
    if (final.length) paths.push({ ...common, from: ['delivered'], to: final });
    try {
      for (const path of paths) {
        if (await this.move(ack.commandId, path)) return;
      }
      this.logger.debug(
        `${vendor} ack for ${ack.commandId} from ${ack.externalId} ignored (unknown, already final, or not that device's)`,
      );
    } catch (error) {
      this.logger.warn(`${vendor} ack for ${ack.commandId} not recorded: ${String(error)}`);
    }
  }
}
