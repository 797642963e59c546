import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { connect, type MqttClient } from 'mqtt';
import { z } from 'zod';
import {
  VendorUnavailableError,
  type DeliveryResult,
  type VendorAck,
  type VendorAdapter,
  type VendorCommand,
} from './vendor.adapter.js';

const NAME = 'mqtt';
const tracer = trace.getTracer('@conduit/device-control');

// WARNING: wire names shared with device firmware; changing a topic or a payload key breaks
// every deployed device.
const commandsTopic = (externalId: string) => `devices/${externalId}/commands`;
const ACKS_FILTER = 'devices/+/acks';
const ACK_TOPIC = /^devices\/([^/]+)\/acks$/;

const ackSchema = z.object({
  command_id: z.string().min(1),
  status: z.enum(['delivered', 'succeeded', 'failed']),
  reason: z.string().optional(),
  state: z.record(z.string(), z.unknown()).optional(),
});

// An external id is one topic level: no separators, no wildcards, no NUL.
const isTopicLevel = (id: string) => id !== '' && !/[/+#]/.test(id) && !id.includes('\0');

export interface MqttAdapterOptions {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883` (`mqtts://` for TLS). */
  readonly url: string;
  /** Defaults to `device-control-<random>`; two live clients with one id kick each other off. */
  readonly clientId?: string;
  /** Time allowed for a (re)connection to be acknowledged by the broker; 5000 ms by default. */
  readonly connectTimeoutMs?: number;
  /** Pause between reconnection attempts; 1000 ms by default. */
  readonly reconnectPeriodMs?: number;
  /**
   * Subscribe to acks as `$share/<group>/devices/+/acks` (MQTT shared subscription, Mosquitto
   * ≥ 2, EMQX, HiveMQ): the broker hands each ack to one member of the group, so N replicas do
   * not each record it. Unset: a plain subscription, every replica gets every ack.
   */
  readonly sharedGroup?: string;
}

interface PendingPublish {
  readonly fail: (error: VendorUnavailableError) => void;
}

/**
 * Delivers commands over MQTT: publishes `{ command_id, action, params }` to
 * `devices/<externalId>/commands` at QoS 1 and returns `sent` once the broker acknowledged the
 * publish (PUBACK) — the device's outcome arrives later on `devices/<externalId>/acks` as
 * `{ command_id, status, reason?, state? }` and is handed to `onAck`. Acks are subscribed at
 * QoS 1, so one may arrive twice; malformed ones are logged and dropped.
 *
 * The client reconnects by itself, but a command is never queued while offline: `deliver` throws
 * {@link VendorUnavailableError} when the client is not connected, when the connection drops before
 * the PUBACK, or when `signal` aborts. A publish abandoned that way may still have reached the
 * broker, so devices must ignore a `command_id` they already carried out.
 */
export class MqttAdapter implements VendorAdapter {
  readonly name = NAME;
  private readonly logger = new Logger(MqttAdapter.name);
  private readonly pending = new Set<PendingPublish>();
  private client: MqttClient | undefined;
  private onAck: (ack: VendorAck) => void = () => undefined;
  private readonly acksFilter: string;

  constructor(private readonly options: MqttAdapterOptions) {
    this.acksFilter = options.sharedGroup ? `$share/${options.sharedGroup}/${ACKS_FILTER}` : ACKS_FILTER;
  }

  /**
   * Connects and subscribes to acks. Resolves once the first connection is subscribed or the first
   * attempt failed: a broker that is down does not fail the service's start — deliveries throw
   * until the client has reconnected (every `connectTimeoutMs` at most, then every
   * `reconnectPeriodMs`).
   */
  async start(onAck: (ack: VendorAck) => void): Promise<void> {
    if (this.client) throw new Error(`${MqttAdapter.name} already started`);
    this.onAck = onAck;
    const client = connect(this.options.url, {
      clientId: this.options.clientId ?? `device-control-${randomUUID()}`,
      connectTimeout: this.options.connectTimeoutMs ?? 5_000,
      reconnectPeriod: this.options.reconnectPeriodMs ?? 1_000,
      // Subscribed on every `connect` below, which also covers a broker that lost the session.
      resubscribe: false,
    });
    this.client = client;
    // Logged on transitions only: a broker that stays down would otherwise log every second.
    let reachable = true;
    // Ends start(): the first connection is subscribed, or the first attempt failed.
    let firstAttemptDone: (() => void) | undefined;
    const firstAttempt = new Promise<void>((resolve) => (firstAttemptDone = resolve));
    client.on('connect', () => {
      this.logger.log(`connected to ${this.brokerLabel()}`);
      reachable = true;
      client.subscribe(this.acksFilter, { qos: 1 }, (error) => {
        if (error) this.logger.error(`subscribing to ${this.acksFilter} failed: ${error.message}`);
        firstAttemptDone?.();
      });
    });
    client.on('close', () => {
      // mqtt.js would keep unacknowledged publishes and resend them after reconnecting; the
      // breaker retries instead, so fail them now.
      this.failPending(`connection to ${this.brokerLabel()} lost before the broker acknowledged`);
      if (reachable && this.client === client) {
        this.logger.warn(`${this.brokerLabel()} unreachable; reconnecting`);
      }
      reachable = false;
      firstAttemptDone?.();
    });
    client.on('error', (error) => {
      if (reachable) this.logger.warn(`${this.brokerLabel()}: ${error.message}`);
      else this.logger.debug(`${this.brokerLabel()}: ${error.message}`);
    });
    client.on('message', (topic, payload) => this.handleMessage(topic, payload));

    await firstAttempt;
    firstAttemptDone = undefined;
  }

  /** Ends the client; deliveries still waiting for a PUBACK throw VendorUnavailableError. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.failPending('adapter stopped');
    if (client) await client.endAsync(true);
  }

  async deliver(command: VendorCommand, signal: AbortSignal): Promise<DeliveryResult> {
    if (!command.externalId) return failed('the device has no external_id');
    if (!isTopicLevel(command.externalId)) {
      return failed('external_id must not contain "/", "+", "#" or NUL (it is an MQTT topic level)');
    }
    const topic = commandsTopic(command.externalId);
    const client = this.client;
    if (!client?.connected) {
      throw new VendorUnavailableError(NAME, `${NAME}: not connected to ${this.brokerLabel()} (${topic})`);
    }
    if (signal.aborted)
      throw new VendorUnavailableError(NAME, `${NAME}: aborted before publishing to ${topic}`);

    const payload = JSON.stringify({
      command_id: command.commandId,
      action: command.action,
      params: command.params,
    });
    // No MQTT instrumentation exists: the publish is a producer span of its own (messaging
    // semantic conventions), child of the command's delivery, so the trace reaches the broker.
    const span = tracer.startSpan(`publish ${topic}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'mqtt',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'publish',
        'messaging.destination.name': topic,
        'messaging.message.id': command.commandId,
      },
    });
    try {
      await this.publish(client, topic, payload, signal);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
    return { kind: 'sent' };
  }

  /** QoS 1 publish that settles on the broker's PUBACK, an abort, or the connection's loss. */
  private publish(client: MqttClient, topic: string, payload: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry: PendingPublish = { fail: (error) => settle(error) };
      const onAbort = () => settle(new VendorUnavailableError(NAME, `${NAME}: publish to ${topic} aborted`));
      const settle = (error?: VendorUnavailableError) => {
        if (!this.pending.delete(entry)) return;
        signal.removeEventListener('abort', onAbort);
        if (!error) {
          resolve();
          return;
        }
        // Drops it from mqtt.js's outgoing store so it is not resent after a reconnect.
        const id = Object.entries(client.outgoing).find(([, o]) => o.cb === onPuback)?.[0];
        if (id !== undefined) client.removeOutgoingMessage(Number(id));
        reject(error);
      };
      const onPuback = (error?: Error) =>
        settle(
          error &&
            new VendorUnavailableError(NAME, `${NAME}: publish to ${topic} failed: ${error.message}`, {
              cause: error,
            }),
        );
      this.pending.add(entry);
      signal.addEventListener('abort', onAbort, { once: true });
      client.publish(topic, payload, { qos: 1 }, onPuback);
    });
  }

  private handleMessage(topic: string, payload: Buffer): void {
    const externalId = ACK_TOPIC.exec(topic)?.[1];
    if (externalId === undefined) return;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      this.logger.warn(`ignored ack on ${topic}: not JSON (${payload.length} bytes)`);
      return;
    }
    const parsed = ackSchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(ack)'} ${i.message}`);
      this.logger.warn(`ignored ack on ${topic}: ${issues.join('; ')}`);
      return;
    }
    const { command_id, status, reason, state } = parsed.data;
    try {
      this.onAck({
        commandId: command_id,
        externalId,
        outcome: status,
        ...(reason !== undefined && { reason }),
        ...(state !== undefined && { reported: state }),
      });
    } catch (error) {
      // A throwing handler must not take the MQTT client's event loop down with it.
      this.logger.error(`ack handler failed for ${command_id}: ${String(error)}`);
    }
  }

  private failPending(why: string): void {
    for (const entry of [...this.pending]) entry.fail(new VendorUnavailableError(NAME, `${NAME}: ${why}`));
  }

  /** The broker URL without credentials, for messages. */
  private brokerLabel(): string {
    const url = URL.parse(this.options.url);
    return url ? `${url.protocol}//${url.host}` : 'the broker';
  }
}

function failed(reason: string): DeliveryResult {
  return { kind: 'completed', outcome: 'failed', reason };
}
