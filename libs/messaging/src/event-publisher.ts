import { randomUUID } from 'node:crypto';
import type { JetStreamClient } from '@nats-io/jetstream';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { toFieldIssues, type EventContract, type PayloadOf, type SubjectArgsOf } from '@conduit/contracts';
import type { z } from 'zod';
import { messagingMetrics } from './messaging.metrics.js';
import { RpcError } from './rpc.error.js';
import { outgoingHeaders } from './trace-headers.js';

export interface PublishOptions {
  /** `Nats-Msg-Id`: the stream drops a second message with the same id inside its duplicate window. Random when omitted. */
  readonly msgId?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Time to wait for JetStream's acknowledgement, in milliseconds (default 5 000). */
  readonly timeoutMs?: number;
}

/** JetStream's acknowledgement: the message is stored (or was already, when `duplicate`). */
export interface PublishResult {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

const tracer = trace.getTracer('@conduit/messaging');
const encoder = new TextEncoder();

/**
 * Publishes facts to JetStream. Every publish resolves only after the stream acknowledged it
 * (the message is durable), sets `Nats-Msg-Id`, and carries the trace context in a PRODUCER
 * span. Throws on a schema mismatch (`validation_failed`) or when JetStream does not ack.
 */
export class EventPublisher {
  constructor(private readonly js: JetStreamClient) {}

  /** Validates `payload` against the contract and publishes it on the subject built from `args`. */
  async publish<C extends EventContract>(
    contract: C,
    args: SubjectArgsOf<C>,
    payload: PayloadOf<C>,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    const parsed = (contract.schema as z.ZodType).safeParse(payload);
    if (!parsed.success) {
      throw new RpcError(
        'validation_failed',
        `invalid ${contract.type} payload`,
        toFieldIssues(parsed.error),
      );
    }
    return this.publishRaw(
      (contract.subject as (...a: readonly string[]) => string)(...args),
      parsed.data,
      options,
    );
  }

  /**
   * Publishes an already-validated body (an object is JSON-encoded; bytes go as they are). For
   * hot paths and relays whose payload was validated when it was produced.
   */
  async publishRaw(subject: string, body: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    const data = body instanceof Uint8Array ? body : encoder.encode(JSON.stringify(body));
    const span = tracer.startSpan(`publish ${subject}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'publish',
        'messaging.operation.name': 'publish',
        'messaging.destination.name': subject,
        'messaging.message.body.size': data.length,
      },
    });
    try {
      const msgId = options.msgId ?? randomUUID();
      span.setAttribute('messaging.message.id', msgId);
      const ack = await this.js.publish(subject, data, {
        msgID: msgId,
        timeout: options.timeoutMs ?? 5_000,
        headers: outgoingHeaders(trace.setSpan(context.active(), span), options.headers),
      });
      messagingMetrics.published.inc({ stream: ack.stream, duplicate: String(ack.duplicate) });
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  }
}
