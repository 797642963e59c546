import { randomUUID } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestStack } from './support/stack.js';

/**
 * Property: whatever a client sends to a public route — malformed JSON, wrong types, huge
 * values, unknown fields, odd query strings — the gateway answers a JSON error with a 4xx (or a
 * success), never a 5xx, and keeps running.
 */
describe('fuzzing the public routes', () => {
  let stack: TestStack;
  let key: string;
  const org = `fz-${randomUUID().slice(0, 8)}`;
  const RUNS = Number(process.env['FUZZ_RUNS'] ?? 120);

  beforeAll(async () => {
    stack = await TestStack.start({ services: ['device-control', 'telemetry', 'gateway'] });
    key = await stack.keyFor(org, 'admin');
  });
  afterAll(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  const send = async (method: string, path: string, body?: string, contentType = 'application/json') => {
    const res = await fetch(`${stack.gatewayUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': contentType } : {}),
      },
      body,
    });
    const text = await res.text();
    return { status: res.status, text, type: res.headers.get('content-type') ?? '' };
  };

  /**
   * A body the gateway refuses from its `content-length` alone: it answers 413 at once and closes
   * the connection (Fastify's `connection: close`), possibly while the client is still writing —
   * fetch then fails with EPIPE before reading the answer. Node's client reads the answer and the
   * write error that follows it is expected.
   */
  const sendUnread = (path: string, body: string) =>
    new Promise<{ status: number; text: string; type: string }>((resolve, reject) => {
      const req = http.request(`${stack.gatewayUrl}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      });
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString(),
            type: String(res.headers['content-type'] ?? ''),
          }),
        );
        res.on('error', reject);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (!(answered && (error.code === 'EPIPE' || error.code === 'ECONNRESET'))) reject(error);
      });
      req.end(body);
    });

  const expectClean = (r: { status: number; text: string; type: string }, what: string) => {
    if (r.status >= 500) throw new Error(`${what} → ${r.status} ${r.text.slice(0, 300)}`);
    if (r.status >= 400) {
      expect(r.type, what).toContain('application/json');
      const body = JSON.parse(r.text) as { error?: { code?: string; message?: string } };
      expect(typeof body.error?.code, what).toBe('string');
      expect(typeof body.error?.message, what).toBe('string');
    }
  };

  /** Values of every JSON type, nested, with huge strings and numbers among them. */
  const hostile = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.string({ minLength: 0, maxLength: 20_000 }),
    fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 0.1, -0, '', '\u0000', '💥'.repeat(1000)),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 50 }),
  );
  /** A body: usually a JSON object mixing real field names with wrong types and unknown fields. */
  const bodyOf = (fields: string[]) =>
    fc.oneof(
      fc
        .dictionary(fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 20 })), hostile, {
          maxKeys: 8,
        })
        .map((o) => JSON.stringify(o)),
      hostile.map((v) => JSON.stringify(v) ?? 'null'),
      // Not JSON at all: truncated documents, stray bytes.
      fc.string({ maxLength: 200 }).map((s) => `{"${s}`),
      fc.constantFrom('', '{', '[1,', 'null', '{"a":1}}', '\ufeff{}', '{"__proto__":{"x":1}}'),
    );

  const routes: { method: string; path: string; fields: string[] }[] = [
    {
      method: 'POST',
      path: '/api/v1/devices',
      fields: ['id', 'name', 'type', 'site', 'vendor', 'external_id', 'tags', 'metadata'],
    },
    { method: 'POST', path: '/api/v1/telemetry', fields: ['device_id', 'timestamp', 'data'] },
    {
      method: 'POST',
      path: '/api/v1/telemetry/batch',
      fields: ['points', 'device_id', 'metric', 'ts', 'value'],
    },
    {
      method: 'POST',
      path: '/api/v1/telemetry/query',
      fields: ['device_ids', 'metrics', 'from', 'to', 'interval', 'agg'],
    },
    { method: 'POST', path: '/api/v1/admin/orgs', fields: ['id', 'name', 'tier'] },
    { method: 'POST', path: `/api/v1/admin/orgs/${org}/keys`, fields: ['user_id', 'role', 'name'] },
  ];

  for (const route of routes) {
    it(`${route.method} ${route.path}: 4xx JSON for any body, never 5xx`, async () => {
      await fc.assert(
        fc.asyncProperty(bodyOf(route.fields), async (body) => {
          expectClean(
            await send(route.method, route.path, body),
            `${route.method} ${route.path} ${body.slice(0, 200)}`,
          );
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('GET routes: any query string and path segment gets a clean answer', async () => {
    const param = fc.string({ maxLength: 300 }).map((s) => encodeURIComponent(s));
    const queryOf = (names: string[]) =>
      fc
        .array(fc.tuple(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 10 })), param), {
          maxLength: 6,
        })
        .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&'));
    await fc.assert(
      fc.asyncProperty(
        param,
        queryOf(['limit', 'cursor', 'site', 'type', 'status']),
        queryOf(['metric', 'from', 'to', 'interval', 'agg', 'limit', 'cursor']),
        async (id, deviceQuery, telemetryQuery) => {
          for (const path of [
            `/api/v1/devices?${deviceQuery}`,
            `/api/v1/devices/${id || 'x'}`,
            `/api/v1/telemetry/${id || 'x'}?${telemetryQuery}`,
            `/api/v1/telemetry/${id || 'x'}/latest`,
            `/cache/stats?${deviceQuery}`,
          ]) {
            expectClean(await send('GET', path), `GET ${path.slice(0, 300)}`);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('wrong content types and oversized bodies are refused cleanly, and the gateway is still up', async () => {
    expectClean(
      await send('POST', '/api/v1/devices', 'name=x', 'application/x-www-form-urlencoded'),
      'form body',
    );
    expectClean(await send('POST', '/api/v1/devices', '<xml/>', 'text/xml'), 'xml body');
    const huge = await sendUnread(
      '/api/v1/devices',
      JSON.stringify({ name: 'x'.repeat(3_000_000), type: 't' }),
    );
    expect(huge.status).toBe(413);
    expectClean(huge, 'huge body');
    expect((await fetch(`${stack.gatewayUrl}/health`)).status).toBe(200);
    expect(stack.process('gateway').alive).toBe(true);
  });
});
