import { defineRequest } from '@conduit/contracts';
import { propagation, trace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RpcClient } from './rpc-client.js';
import { RpcError } from './rpc.error.js';
import { connectTestMessaging, uniqueName } from './testing/index.js';
import type { Messaging } from './messaging.js';

const op = (name: string) =>
  defineRequest({
    subject: `svc.test.${name}`,
    queue: 'test-service',
    request: z.object({ n: z.number().int() }),
    response: z.object({ doubled: z.number(), by: z.string(), traceparent: z.string().optional() }),
  });

describe(RpcClient.name, () => {
  let a: Messaging;
  let b: Messaging;
  const echo = op(uniqueName('echo'));
  const failing = op(uniqueName('failing'));
  const slow = op(uniqueName('slow'));

  beforeAll(async () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    a = await connectTestMessaging({ name: 'a' });
    b = await connectTestMessaging({ name: 'b', requestTimeoutMs: 300 });
    for (const [m, by] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      m.rpcServer.handle(echo, (req, ctx) => ({
        doubled: req.n * 2,
        by,
        traceparent: ctx.headers['traceparent'],
      }));
    }
    a.rpcServer.handle(failing, (req) => {
      if (req.n === 404) throw new RpcError('not_found', 'no such thing');
      throw new Error('database exploded with secret details');
    });
    a.rpcServer.handle(slow, async (req) => {
      await new Promise((r) => setTimeout(r, 1_000));
      return { doubled: req.n * 2, by: 'slow' };
    });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('answers with the typed response, replicas in the queue group sharing the load', async () => {
    const sut = a.rpcClient;
    const replies = await Promise.all(Array.from({ length: 60 }, (_, n) => sut.request(echo, { n })));
    expect(replies.map((r) => r.doubled)).toEqual(Array.from({ length: 60 }, (_, n) => n * 2));
    const by = new Set(replies.map((r) => r.by));
    expect(by).toEqual(new Set(['a', 'b']));
  });

  it('rejects an invalid request before sending, naming the field', async () => {
    const error = await a.rpcClient.request(echo, { n: 'x' } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe('validation_failed');
    expect((error as RpcError).details?.[0]?.field).toBe('n');
  });

  it('carries the handler’s error code, and hides internal errors', async () => {
    const notFound = await a.rpcClient.request(failing, { n: 404 }).catch((e: unknown) => e);
    expect(notFound).toMatchObject({ code: 'not_found', message: 'no such thing' });
    const internal = await a.rpcClient.request(failing, { n: 1 }).catch((e: unknown) => e);
    expect(internal).toMatchObject({ code: 'internal', message: 'internal error' });
  });

  it('maps a slow responder to timeout and a missing one to unavailable', async () => {
    const timeout = await b.rpcClient.request(slow, { n: 1 }).catch((e: unknown) => e);
    expect(timeout).toMatchObject({ code: 'timeout' });
    const missing = await a.rpcClient.request(op(uniqueName('nobody')), { n: 1 }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'unavailable' });
  });

  it('propagates the caller’s trace context in the traceparent header', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parent = trace.setSpanContext(context.active(), {
      traceId,
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    });
    const reply = await context.with(parent, () => a.rpcClient.request(echo, { n: 2 }));
    expect(reply.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });
});
