import { Logger } from '@nestjs/common';
import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { context, SpanKind, SpanStatusCode, trace, type Link } from '@opentelemetry/api';
import { DLQ_HEADERS, dlqSubject } from '@conduit/contracts';
import type { z } from 'zod';
import { messagingMetrics } from './messaging.metrics.js';
import type { MessagingOptions } from './messaging.options.js';
import { headersToRecord, incomingContext, outgoingHeaders } from './trace-headers.js';

/** One message handed to a consumer's handler, already validated. */
export interface ReceivedEvent<T> {
  readonly subject: string;
  readonly data: T;
  readonly headers: Readonly<Record<string, string>>;
  /** Stream sequence: unique and increasing within the stream (a redelivery keeps it). */
  readonly streamSeq: number;
  /**
   * When the stream was created (epoch ms). Sequences restart when a stream is deleted and
   * created again, so (streamEpoch, streamSeq) is what identifies a message across time.
   */
  readonly streamEpoch: number;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  readonly msgId?: string;
  readonly publishedAt: Date;
}

export interface ConsumerSpec<S extends z.ZodType> {
  readonly stream: string;
  /** Durable name `<service>-<purpose>`, shared by all replicas of the service. */
  readonly durable: string;
  /** One subject filter (nats-server 2.9 supports one per consumer). */
  readonly filterSubject: string;
  /** Messages failing it are dead-lettered at once, never retried. */
  readonly schema: S;
  /**
   * A cheap exact check for the common shape of a hot stream's payloads: when it returns true the
   * parsed JSON is handed over as it is, without the schema (which copies every object); when
   * false, the schema decides (and names the error). It must return true only for payloads the
   * schema accepts unchanged (no transforms or defaults to apply).
   */
  readonly matches?: (payload: unknown) => boolean;
  /**
   * The handler needs the subject and metadata only: the payload is neither parsed nor validated
   * (`data` is undefined) — e.g. a consumer that follows which devices sent telemetry, not what.
   * Poison payloads are then the concern of the consumers that read them.
   */
  readonly skipPayload?: boolean;
  /**
   * Where a consumer created for the first time starts: `all` the stream holds (default) or
   * only `new` messages. Once created, a durable resumes where it stopped either way.
   */
  readonly startAt?: 'all' | 'new';
  /**
   * Handles a batch. Resolving acknowledges every message of it, so resolve only once the effect
   * is durable. Throwing retries the batch's messages one by one so that a poison message is
   * isolated; each failure is nak'ed with the backoff delay, dead-lettered on its last delivery.
   */
  readonly handle: (events: ReceivedEvent<z.output<S>>[]) => Promise<void>;
  /** Flush when `maxMessages` are buffered or the oldest is `maxWaitMs` old (default 1 and 0: one at a time). */
  readonly batch?: { readonly maxMessages: number; readonly maxWaitMs: number };
  /** Batches handled at once by this process (default 1; batches of one message may use more). */
  readonly concurrency?: number;
  /** Unacknowledged messages the server lets out to all replicas together (default 8 batches). */
  readonly maxAckPending?: number;
  readonly maxDeliver?: number;
  readonly backoffMs?: readonly number[];
  readonly ackWaitS?: number;
  /**
   * Errors that mean a dependency is down (e.g. the database), not that the messages are bad:
   * the batch is kept and retried in place (backoff from 0.5 s up to 10 s) while its messages
   * are held with in-progress acks, so an outage of any length burns no deliveries and sends
   * nothing to the DLQ. Pulling pauses meanwhile (backpressure).
   */
  readonly isTransient?: (error: unknown) => boolean;
}

/** A consumer being run by this process. */
export interface RunningConsumer {
  readonly stream: string;
  readonly durable: string;
  /** Stops pulling, finishes and acknowledges what this process holds, then returns. */
  stop(): Promise<void>;
  /** Messages not yet delivered (`pending`) and delivered but unacknowledged (`ackPending`). */
  lag(): Promise<{ pending: number; ackPending: number }>;
  /**
   * Read-your-writes for a projection this consumer keeps: resolves `true` once every message
   * the stream holds on `subject` so far (up to its last sequence when called) is acknowledged
   * by the consumer — handled or dead-lettered — and `false` if that takes longer than
   * `timeoutMs`. Two JetStream API calls when it is already so.
   */
  settled(subject: string, timeoutMs: number): Promise<boolean>;
}

const tracer = trace.getTracer('@conduit/messaging');
const decoder = new TextDecoder();
const LAG_REFRESH_MS = 5_000;
const MAX_LINKS = 128;

class DeadLetter extends Error {
  constructor(
    readonly kind: 'invalid' | 'handler_failed',
    message: string,
  ) {
    super(message);
    this.name = 'DeadLetter';
  }
}

/** The redelivery schedule the server applies to unacknowledged (e.g. crashed) deliveries. */
export function serverBackoff(ackWaitS: number, maxDeliver: number): number[] {
  const steps = Math.max(0, Math.min(maxDeliver - 1, 4));
  return Array.from({ length: steps }, (_, i) => ackWaitS * 1000 * 2 ** i);
}

/** Delay before redelivering a message whose handler failed on delivery `deliveryCount`. */
export function nakDelay(backoffMs: readonly number[], deliveryCount: number): number {
  return backoffMs[Math.min(Math.max(deliveryCount, 1) - 1, backoffMs.length - 1)] ?? 0;
}

/**
 * Runs durable pull consumers: provisions each one idempotently (explicit ack, `max_deliver`,
 * a server `backoff` schedule, bounded `max_ack_pending`), batches messages, acknowledges after
 * the handler, naks failures with a delay, and dead-letters to `dlq.<stream>.<durable>`.
 */
export class ConsumerRunner {
  private readonly logger = new Logger(ConsumerRunner.name);
  private readonly running = new Set<RunningConsumer>();

  /** The consumers this process runs (for performance snapshots). */
  list(): RunningConsumer[] {
    return [...this.running];
  }

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly defaults: MessagingOptions['consumers'],
  ) {}

  async run<S extends z.ZodType>(spec: ConsumerSpec<S>): Promise<RunningConsumer> {
    const maxDeliver = spec.maxDeliver ?? this.defaults.maxDeliver;
    const ackWaitS = spec.ackWaitS ?? this.defaults.ackWaitS;
    const backoffMs = spec.backoffMs ?? this.defaults.backoffMs;
    const maxMessages = spec.batch?.maxMessages ?? 1;
    const maxWaitMs = spec.batch?.maxWaitMs ?? 0;
    const concurrency = spec.concurrency ?? 1;
    const config: Partial<ConsumerConfig> = {
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: spec.startAt === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
      filter_subject: spec.filterSubject,
      max_deliver: maxDeliver,
      ack_wait: nanos(ackWaitS * 1000),
      max_ack_pending: spec.maxAckPending ?? Math.max(maxMessages * concurrency * 8, 256),
    };
    const backoff = serverBackoff(ackWaitS, maxDeliver);
    if (backoff.length > 0) config.backoff = backoff.map((ms) => nanos(ms));
    await this.ensureConsumer(spec.stream, spec.durable, config);

    const consumer = await this.js.consumers.get(spec.stream, spec.durable);
    const streamEpoch = Date.parse((await this.jsm.streams.info(spec.stream)).created);
    const labels = { stream: spec.stream, consumer: spec.durable };
    const buffer: JsMsg[] = [];
    const inFlight = new Set<Promise<void>>();
    let timer: NodeJS.Timeout | undefined;
    let stopping = false;

    const deadLetter = async (m: JsMsg, kind: DeadLetter['kind'], reason: string) => {
      await this.copyToDlq(
        spec.stream,
        spec.durable,
        m.subject,
        m.seq,
        m.data,
        m.headers,
        reason,
        m.info.deliveryCount,
      );
      messagingMetrics.deadLettered.inc({ ...labels, kind });
      m.term(reason.slice(0, 200));
    };

    const decode = (m: JsMsg): ReceivedEvent<z.output<S>> => {
      if (spec.skipPayload) {
        const headers = headersToRecord(m.headers);
        return {
          subject: m.subject,
          data: undefined as z.output<S>,
          headers,
          streamSeq: m.seq,
          streamEpoch,
          deliveryCount: m.info.deliveryCount,
          msgId: headers['Nats-Msg-Id'],
          publishedAt: m.time,
        };
      }
      let raw: unknown;
      try {
        raw = JSON.parse(decoder.decode(m.data));
      } catch {
        throw new DeadLetter('invalid', 'invalid JSON');
      }
      const parsed: z.ZodSafeParseResult<z.output<S>> = spec.matches?.(raw)
        ? { success: true, data: raw as z.output<S> }
        : spec.schema.safeParse(raw);
      if (!parsed.success) {
        const first = parsed.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ');
        throw new DeadLetter('invalid', `schema: ${first}`);
      }
      const headers = headersToRecord(m.headers);
      return {
        subject: m.subject,
        data: parsed.data,
        headers,
        streamSeq: m.seq,
        streamEpoch,
        deliveryCount: m.info.deliveryCount,
        msgId: headers['Nats-Msg-Id'],
        publishedAt: m.time,
      };
    };

    const handleWithSpan = async (msgs: JsMsg[], events: ReceivedEvent<z.output<S>>[]) => {
      const links: Link[] = msgs.slice(0, MAX_LINKS).flatMap((m) => {
        const spanContext = trace.getSpanContext(incomingContext(m.headers));
        return spanContext ? [{ context: spanContext }] : [];
      });
      const span = tracer.startSpan(
        `process ${spec.stream}`,
        {
          kind: SpanKind.CONSUMER,
          links,
          attributes: {
            'messaging.system': 'nats',
            'messaging.operation.type': 'process',
            'messaging.operation.name': 'process',
            'messaging.destination.name': spec.filterSubject,
            'messaging.consumer.group.name': spec.durable,
            'messaging.batch.message_count': events.length,
          },
        },
        // A batch of one continues its producer's trace; a larger batch starts its own, linked to each.
        msgs.length === 1 ? incomingContext(msgs[0]?.headers) : context.active(),
      );
      // Long handlers keep their deliveries from being redelivered while they work.
      const heartbeat = setInterval(
        () => msgs.forEach((m) => m.working()),
        Math.max(1000, (ackWaitS * 1000) / 3),
      );
      try {
        await context.with(trace.setSpan(context.active(), span), () => spec.handle(events));
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        clearInterval(heartbeat);
        span.end();
      }
    };

    const failOne = async (m: JsMsg, error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (m.info.deliveryCount >= maxDeliver) {
        await deadLetter(
          m,
          'handler_failed',
          `handler failed on delivery ${m.info.deliveryCount}: ${message}`,
        );
      } else {
        m.nak(nakDelay(backoffMs, m.info.deliveryCount));
        messagingMetrics.consumed.inc({ ...labels, outcome: 'nacked' });
      }
    };

    const processBatch = async (batch: JsMsg[]) => {
      const valid: JsMsg[] = [];
      const events: ReceivedEvent<z.output<S>>[] = [];
      for (const m of batch) {
        try {
          events.push(decode(m));
          valid.push(m);
        } catch (error) {
          const reason = error instanceof DeadLetter ? error.message : String(error);
          await deadLetter(m, 'invalid', reason).catch((e: unknown) => {
            this.logger.error(
              `dead-lettering ${spec.stream}#${m.seq} failed, leaving it for redelivery: ${String(e)}`,
            );
          });
        }
      }
      if (valid.length === 0) return;
      try {
        await handleWithSpan(valid, events);
        for (const m of valid) m.ack();
        messagingMetrics.consumed.inc({ ...labels, outcome: 'acked' }, valid.length);
      } catch (caught) {
        let error = caught;
        if (spec.isTransient?.(error)) {
          const retried = await retryInPlace(valid, events, error);
          if (retried === 'done') return;
          error = retried;
        }
        if (valid.length > 1) {
          this.logger.warn(
            `batch of ${valid.length} on ${spec.durable} failed (${String(error)}); retrying one by one`,
          );
        }
        for (const [i, m] of valid.entries()) {
          const event = events[i] as ReceivedEvent<z.output<S>>;
          try {
            if (valid.length === 1) throw error;
            await handleWithSpan([m], [event]);
            m.ack();
            messagingMetrics.consumed.inc({ ...labels, outcome: 'acked' });
          } catch (single) {
            await failOne(m, single);
          }
        }
      }
      // Acks are fire-and-forget publishes: make sure they reached the server.
      await this.nc.flush().catch(() => undefined);
    };

    /**
     * Retries a batch whose handler failed on a transient error until it succeeds (→ 'done'),
     * fails otherwise (→ that error, for the normal path), or the consumer stops (→ nak so that
     * another replica or the next start takes the batch; → 'done').
     */
    const retryInPlace = async (msgs: JsMsg[], events: ReceivedEvent<z.output<S>>[], first: unknown) => {
      const hold = setInterval(() => msgs.forEach((m) => m.working()), Math.max(1000, (ackWaitS * 1000) / 3));
      let delay = 500;
      try {
        this.logger.warn(
          `${spec.durable}: dependency unavailable (${String(first)}); holding ${msgs.length} messages`,
        );
        for (;;) {
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 10_000);
          if (stopping) {
            msgs.forEach((m) => m.nak());
            return 'done' as const;
          }
          try {
            await handleWithSpan(msgs, events);
            for (const m of msgs) m.ack();
            messagingMetrics.consumed.inc({ ...labels, outcome: 'acked' }, msgs.length);
            return 'done' as const;
          } catch (next) {
            if (!spec.isTransient?.(next)) return next;
          }
        }
      } finally {
        clearInterval(hold);
      }
    };

    const pump = () => {
      clearTimeout(timer);
      timer = undefined;
      while (buffer.length > 0 && inFlight.size < concurrency) {
        const oldest = buffer[0];
        if (oldest && buffer.length < maxMessages && !stopping) {
          const age = Date.now() - oldest.time.getTime();
          if (age < maxWaitMs) {
            timer = setTimeout(pump, Math.max(1, maxWaitMs - age));
            return;
          }
        }
        const job = processBatch(buffer.splice(0, maxMessages))
          .catch((error: unknown) =>
            this.logger.error(`consumer ${spec.durable} batch failed: ${String(error)}`),
          )
          .finally(() => {
            inFlight.delete(job);
            pump();
          });
        inFlight.add(job);
      }
    };

    const messages: ConsumerMessages = await consumer.consume({
      max_messages: Math.max(maxMessages * 2, 100),
      callback: (m) => {
        buffer.push(m);
        if (buffer.length >= maxMessages || maxWaitMs === 0) pump();
        else timer ??= setTimeout(pump, maxWaitMs);
      },
    });

    // Messages waiting in the buffer while every batch slot is busy (Postgres slow, say) are
    // kept from redelivery as the ones in a batch are: otherwise they outlive the ack wait, come
    // again into the same buffer, and count towards max_deliver without ever having failed.
    const bufferHeartbeat = setInterval(
      () => buffer.forEach((m) => m.working()),
      Math.max(1000, (ackWaitS * 1000) / 3),
    );
    bufferHeartbeat.unref();

    const advisory = this.watchMaxDeliveries(spec.stream, spec.durable);
    const lag = async () => {
      const info = await consumer.info();
      return { pending: info.num_pending, ackPending: info.num_ack_pending };
    };
    const refreshLag = async () => {
      try {
        const { pending, ackPending } = await lag();
        messagingMetrics.pending.set(labels, pending);
        messagingMetrics.ackPending.set(labels, ackPending);
      } catch {
        // the next refresh tries again; a stale gauge is better than a crash
      }
    };
    const lagTimer = setInterval(() => void refreshLag(), LAG_REFRESH_MS);
    lagTimer.unref();
    void refreshLag();

    const settled = async (subject: string, timeoutMs: number) => {
      const last = await this.jsm.streams.getMessage(spec.stream, { last_by_subj: subject });
      if (!last) return true;
      const deadline = Date.now() + timeoutMs;
      for (let delayMs = 2; ; delayMs = Math.min(delayMs * 2, 50)) {
        if ((await consumer.info()).ack_floor.stream_seq >= last.seq) return true;
        if (Date.now() + delayMs > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    };

    const running: RunningConsumer = {
      stream: spec.stream,
      durable: spec.durable,
      lag,
      settled,
      stop: async () => {
        if (stopping) return;
        stopping = true;
        clearInterval(lagTimer);
        await messages.close().catch(() => undefined);
        pump(); // flush whatever was delivered, however young
        while (inFlight.size > 0 || buffer.length > 0) {
          await Promise.all([...inFlight]);
          pump();
        }
        clearInterval(bufferHeartbeat);
        advisory.unsubscribe();
        this.running.delete(running);
      },
    };
    this.running.add(running);
    return running;
  }

  /** Stops every consumer this runner started (each finishes its batch in hand). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((c) => c.stop()));
  }

  private async ensureConsumer(
    stream: string,
    durable: string,
    config: Partial<ConsumerConfig>,
  ): Promise<void> {
    const existing = await this.jsm.consumers.info(stream, durable).catch(() => undefined);
    if (!existing) {
      try {
        await this.jsm.consumers.add(stream, config);
        return;
      } catch (error) {
        // another replica may have created it meanwhile: fall through to the update
        if (!(await this.jsm.consumers.info(stream, durable).catch(() => undefined))) throw error;
      }
    }
    const { durable_name: _d, deliver_policy: _p, filter_subject: _f, ...mutable } = config;
    await this.jsm.consumers.update(stream, durable, mutable);
  }

  /**
   * The server announces a message that ran out of deliveries while no handler saw its last
   * one (e.g. the process holding it died): copy it to the DLQ. Replicas share a queue group,
   * and the DLQ message id dedupes against the runner's own copy.
   */
  private watchMaxDeliveries(stream: string, durable: string): Subscription {
    return this.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${durable}`, {
      queue: `${durable}-dlq`,
      callback: (error, msg) => {
        if (error) return;
        void (async () => {
          const advisory = msg.json<{ stream_seq: number; deliveries: number }>();
          const stored = await this.jsm.streams.getMessage(stream, { seq: advisory.stream_seq });
          if (!stored) return;
          await this.copyToDlq(
            stream,
            durable,
            stored.subject,
            advisory.stream_seq,
            stored.data,
            stored.header,
            'max_deliveries: not acknowledged within its deliveries',
            advisory.deliveries,
          );
          messagingMetrics.deadLettered.inc({ stream, consumer: durable, kind: 'max_deliveries' });
        })().catch((e: unknown) =>
          this.logger.error(`max-deliveries advisory for ${durable} failed: ${String(e)}`),
        );
      },
    });
  }

  private async copyToDlq(
    stream: string,
    durable: string,
    subject: string,
    seq: number,
    data: Uint8Array,
    original: JsMsg['headers'],
    reason: string,
    deliveries: number,
  ): Promise<void> {
    const headers = outgoingHeaders(context.active(), {
      ...headersToRecord(original),
      [DLQ_HEADERS.reason]: reason.replace(/[\r\n]+/g, ' ').slice(0, 1024),
      [DLQ_HEADERS.consumer]: durable,
      [DLQ_HEADERS.stream]: stream,
      [DLQ_HEADERS.subject]: subject,
      [DLQ_HEADERS.streamSeq]: String(seq),
      [DLQ_HEADERS.deliveries]: String(deliveries),
    });
    headers.delete('Nats-Msg-Id');
    await this.js.publish(dlqSubject(stream, durable), data, { msgID: `dlq:${stream}:${seq}`, headers });
  }
}
