import { Logger } from '@nestjs/common';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ORG_HEADER,
  toFieldIssues,
  type ParsedRequestOf,
  type RequestContract,
  type ResponseOf,
} from '@conduit/contracts';
import type { z } from 'zod';
import { messagingMetrics } from './messaging.metrics.js';
import { RpcError } from './rpc.error.js';
import { headersToRecord, incomingContext } from './trace-headers.js';

/** What a request handler knows besides the validated request. */
export interface RpcContext {
  readonly subject: string;
  readonly headers: Readonly<Record<string, string>>;
  /** From the `Conduit-Org-Id` header when the caller set it. */
  readonly orgId?: string;
}

/**
 * A response already serialised (e.g. JSON built by Postgres): sent as it is, so a large reply
 * is not parsed into objects only to be stringified again. `T` documents what the text holds.
 */
export class JsonText<T> {
  declare readonly _type?: T;
  constructor(readonly text: string) {}
}

export type RpcHandler<C extends RequestContract> = (
  request: ParsedRequestOf<C>,
  ctx: RpcContext,
) => Promise<ResponseOf<C> | JsonText<ResponseOf<C>>> | ResponseOf<C> | JsonText<ResponseOf<C>>;

/** The wire form of every reply. WARNING: wire format, read by external callers. */
export type RpcReply<T = unknown> =
  | { readonly ok: true; readonly data: T }
  | { readonly ok: false; readonly error: { code: string; message: string; details?: unknown } };

const tracer = trace.getTracer('@conduit/messaging');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Serves request/reply operations on core NATS, in the contract's queue group so replicas share
 * the load. Requests are handled concurrently; each is validated against the contract (a bad one
 * is answered `validation_failed` naming the fields) and runs inside a SERVER span continuing
 * the caller's trace. A handler answers an error by throwing {@link RpcError}; anything else
 * thrown is answered `internal` (and logged), never leaked.
 */
export class RpcServer {
  private readonly logger = new Logger(RpcServer.name);
  private readonly subscriptions: Subscription[] = [];
  private readonly classifiers: ((error: unknown) => RpcError | undefined)[] = [];

  constructor(private readonly nc: NatsConnection) {}

  handle<C extends RequestContract>(contract: C, handler: RpcHandler<C>): void {
    const sub = this.nc.subscribe(contract.subject, {
      queue: contract.queue,
      callback: (error, msg) => {
        if (error) {
          this.logger.error(`subscription ${contract.subject} failed: ${error.message}`);
          return;
        }
        void this.dispatch(contract, handler, msg);
      },
    });
    this.subscriptions.push(sub);
  }

  /**
   * Adds a classifier for errors handlers did not turn into {@link RpcError} themselves, e.g. a
   * database outage → `unavailable` (503) instead of `internal` (500). First match wins.
   */
  classifyErrors(classify: (error: unknown) => RpcError | undefined): void {
    this.classifiers.push(classify);
  }

  /** Stops taking requests; requests being handled still get their reply. */
  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.splice(0).map((s) => s.drain().catch(() => undefined)));
  }

  private async dispatch<C extends RequestContract>(
    contract: C,
    handler: RpcHandler<C>,
    msg: Msg,
  ): Promise<void> {
    const started = performance.now();
    const parent = incomingContext(msg.headers);
    const span = tracer.startSpan(
      `process ${contract.subject}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': contract.subject,
          'messaging.consumer.group.name': contract.queue,
          'messaging.message.body.size': msg.data.length,
        },
      },
      parent,
    );
    let reply: RpcReply;
    try {
      reply = await context.with(trace.setSpan(parent, span), () => this.run(contract, handler, msg));
    } catch (error) {
      reply = this.toErrorReply(contract.subject, error);
    }
    const outcome = reply.ok ? 'ok' : reply.error.code;
    if (!reply.ok) {
      span.setAttribute('error.type', reply.error.code);
      if (reply.error.code === 'internal') span.setStatus({ code: SpanStatusCode.ERROR });
    }
    try {
      const body =
        reply.ok && reply.data instanceof JsonText
          ? `{"ok":true,"data":${reply.data.text}}`
          : JSON.stringify(reply);
      msg.respond(encoder.encode(body));
    } catch (error) {
      this.logger.warn(`reply on ${contract.subject} failed: ${String(error)}`);
    }
    span.end();
    messagingMetrics.handlerDuration.observe(
      { subject: contract.subject, outcome },
      (performance.now() - started) / 1000,
    );
  }

  private async run<C extends RequestContract>(
    contract: C,
    handler: RpcHandler<C>,
    msg: Msg,
  ): Promise<RpcReply> {
    let raw: unknown;
    try {
      raw = msg.data.length === 0 ? undefined : JSON.parse(decoder.decode(msg.data));
    } catch {
      return {
        ok: false,
        error: {
          code: 'validation_failed',
          message: 'request is not valid JSON',
          details: [{ field: '(root)', message: 'invalid JSON' }],
        },
      };
    }
    const parsed = (contract.request as z.ZodType).safeParse(raw);
    if (!parsed.success) {
      const details = toFieldIssues(parsed.error);
      return {
        ok: false,
        error: {
          code: 'validation_failed',
          message: `invalid request: ${details.map((d) => d.field).join(', ')}`,
          details,
        },
      };
    }
    const headers = headersToRecord(msg.headers);
    const data = await handler(parsed.data as ParsedRequestOf<C>, {
      subject: msg.subject,
      headers,
      orgId: headers[ORG_HEADER],
    });
    return { ok: true, data };
  }

  private toErrorReply(subject: string, caught: unknown): RpcReply {
    let error = caught;
    for (const classify of this.classifiers) {
      if (error instanceof RpcError) break;
      error = classify(error) ?? error;
    }
    if (error instanceof RpcError) {
      if (error.code === 'unavailable') this.logger.warn(`handler ${subject}: ${String(caught)}`);
      return {
        ok: false,
        error: {
          code: error.code,
          message: error.message,
          ...(error.details ? { details: error.details } : {}),
        },
      };
    }
    this.logger.error(
      `handler ${subject} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return { ok: false, error: { code: 'internal', message: 'internal error' } };
  }
}
