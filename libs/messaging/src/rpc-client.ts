import { errors, type NatsConnection } from '@nats-io/transport-node';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ERROR_CODES,
  ORG_HEADER,
  toFieldIssues,
  type ErrorCode,
  type FieldIssue,
  type RequestContract,
  type RequestOf,
  type ResponseOf,
} from '@conduit/contracts';
import type { z } from 'zod';
import { messagingMetrics } from './messaging.metrics.js';
import { RpcError } from './rpc.error.js';
import type { RpcReply } from './rpc-server.js';
import { outgoingHeaders } from './trace-headers.js';

export interface RequestOptions {
  /** Overrides the default time-out (NATS_REQUEST_TIMEOUT_MS), in milliseconds. */
  readonly timeoutMs?: number;
  /** Sent as the `Conduit-Org-Id` header. */
  readonly orgId?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const tracer = trace.getTracer('@conduit/messaging');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Calls request/reply operations. The request is validated before it is sent (an invalid one
 * throws `validation_failed` with the fields). Throws {@link RpcError}: the service's own error
 * code for an error reply, `unavailable` when no replica listens, `timeout` when none answered
 * in time. Replies are trusted as typed (the serving side built them from the same contract).
 */
export class RpcClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly defaultTimeoutMs: number,
  ) {}

  async request<C extends RequestContract>(
    contract: C,
    payload: RequestOf<C>,
    options: RequestOptions = {},
  ): Promise<ResponseOf<C>> {
    return this.call(contract, payload, options, (text) => {
      const reply = JSON.parse(text) as RpcReply<ResponseOf<C>>;
      if (reply.ok) return reply.data;
      throw errorOf(reply);
    });
  }

  /**
   * Like {@link request} but returns the reply's `data` as JSON text, unparsed: for an edge that
   * only forwards it (the gateway answering HTTP), parsing and re-serialising a large reply is
   * pure cost. Errors are thrown exactly as by {@link request}.
   */
  async requestJson<C extends RequestContract>(
    contract: C,
    payload: RequestOf<C>,
    options: RequestOptions = {},
  ): Promise<string> {
    return this.call(contract, payload, options, (text) => {
      if (text.startsWith(OK_PREFIX) && text.endsWith('}')) return text.slice(OK_PREFIX.length, -1);
      const reply = JSON.parse(text) as RpcReply;
      if (reply.ok) return JSON.stringify(reply.data);
      throw errorOf(reply);
    });
  }

  private async call<C extends RequestContract, T>(
    contract: C,
    payload: RequestOf<C>,
    options: RequestOptions,
    read: (text: string) => T,
  ): Promise<T> {
    const parsed = (contract.request as z.ZodType).safeParse(payload);
    if (!parsed.success) {
      const details = toFieldIssues(parsed.error);
      throw new RpcError(
        'validation_failed',
        `invalid request: ${details.map((d) => d.field).join(', ')}`,
        details,
      );
    }
    const started = performance.now();
    const span = tracer.startSpan(`send ${contract.subject}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'request',
        'messaging.destination.name': contract.subject,
      },
    });
    const ctx = trace.setSpan(context.active(), span);
    let outcome = 'ok';
    try {
      const msg = await this.nc.request(contract.subject, encoder.encode(JSON.stringify(payload)), {
        timeout: options.timeoutMs ?? this.defaultTimeoutMs,
        headers: outgoingHeaders(ctx, {
          ...options.headers,
          ...(options.orgId ? { [ORG_HEADER]: options.orgId } : {}),
        }),
      });
      return read(decoder.decode(msg.data));
    } catch (error) {
      const rpcError = toRpcError(contract.subject, error);
      outcome = rpcError.code;
      span.setAttribute('error.type', rpcError.code);
      if (
        rpcError.code !== 'not_found' &&
        rpcError.code !== 'validation_failed' &&
        rpcError.code !== 'conflict'
      ) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: rpcError.message });
      }
      throw rpcError;
    } finally {
      span.end();
      messagingMetrics.requestDuration.observe(
        { subject: contract.subject, outcome },
        (performance.now() - started) / 1000,
      );
    }
  }
}

/** How every success reply starts (RpcServer writes `ok` before `data`). */
const OK_PREFIX = '{"ok":true,"data":';

function errorOf(reply: Extract<RpcReply, { ok: false }>): RpcError {
  const code = (ERROR_CODES as readonly string[]).includes(reply.error.code)
    ? (reply.error.code as ErrorCode)
    : 'internal';
  return new RpcError(code, reply.error.message, reply.error.details as FieldIssue[] | undefined);
}

function toRpcError(subject: string, error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  if (
    error instanceof errors.NoRespondersError ||
    (error instanceof errors.RequestError && error.isNoResponders())
  ) {
    return new RpcError('unavailable', `no service answers ${subject}`);
  }
  if (
    error instanceof errors.TimeoutError ||
    (error instanceof Error && error.cause instanceof errors.TimeoutError)
  ) {
    return new RpcError('timeout', `${subject} did not answer in time`);
  }
  if (error instanceof errors.ClosedConnectionError || error instanceof errors.DrainingConnectionError) {
    return new RpcError('unavailable', 'messaging connection is closed');
  }
  if (error instanceof SyntaxError) return new RpcError('internal', `malformed reply on ${subject}`);
  return new RpcError(
    'unavailable',
    `request ${subject} failed: ${error instanceof Error ? error.message : String(error)}`,
  );
}
