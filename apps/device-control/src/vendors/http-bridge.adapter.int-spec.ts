import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HttpBridgeAdapter } from './http-bridge.adapter.js';
import { VendorUnavailableError, type VendorCommand } from './vendor.adapter.js';

const TOKEN = `tok-${randomUUID()}`;
const TOKEN_ENV = 'HUE_BRIDGE_TOKEN';

type Answer =
  | { readonly kind: 'reply'; readonly status: number; readonly body?: unknown }
  | { readonly kind: 'hang' }
  | { readonly kind: 'hang-body' };

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

/** A real bridge on 127.0.0.1 that records what it receives and answers as told. */
async function startBridge() {
  let answer: Answer = { kind: 'reply', status: 200, body: {} };
  const received: Received[] = [];
  let connections = 0;
  let closedConnections = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: text ? JSON.parse(text) : undefined,
      });
      switch (answer.kind) {
        case 'hang':
          return;
        case 'hang-body':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"state":');
          return;
        case 'reply':
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      }
    })();
  });
  server.on('connection', (socket) => {
    connections++;
    socket.on('close', () => closedConnections++);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    answer: (next: Answer) => {
      answer = next;
    },
    connections: () => connections,
    closedConnections: () => closedConnections,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** Stops the adapter when the test's scope ends, even after a failed assertion. */
function stopOnExit(sut: HttpBridgeAdapter) {
  return { [Symbol.asyncDispose]: () => sut.stop() };
}

const command = (overrides: Partial<VendorCommand> = {}): VendorCommand => ({
  commandId: `cmd-${randomUUID()}`,
  orgId: 'org-1',
  deviceId: 'dev-1',
  externalId: 'lamp-1',
  site: 'north',
  action: 'turn_on',
  params: { brightness: 80 },
  attempt: 1,
  settings: {},
  ...overrides,
});

const never = new AbortController().signal;

describe(HttpBridgeAdapter.name, () => {
  it('PUTs the command to the default path with the token and idempotency key; 200 reports the state', async () => {
    await using bridge = await startBridge();
    const sut = new HttpBridgeAdapter({ env: { [TOKEN_ENV]: TOKEN } });
    await sut.start(() => undefined);
    await using _ = stopOnExit(sut);
    bridge.answer({ kind: 'reply', status: 200, body: { state: { on: true, bri: 80 } } });
    const cmd = command({ externalId: 'lamp 1/a', settings: { base_url: bridge.url, token_env: TOKEN_ENV } });

    const result = await sut.deliver(cmd, never);

    expect(result).toEqual({ kind: 'completed', outcome: 'succeeded', reported: { on: true, bri: 80 } });
    expect(bridge.received).toHaveLength(1);
    const [req] = bridge.received;
    expect(req).toMatchObject({
      method: 'PUT',
      url: '/lights/lamp%201%2Fa/state',
      body: { action: 'turn_on', params: { brightness: 80 }, command_id: cmd.commandId },
    });
    expect(req?.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      'idempotency-key': cmd.commandId,
      'content-type': 'application/json',
    });
  });

  it('honours a custom path template, POST and a base URL with a prefix; no token_env sends no authorization', async () => {
    await using bridge = await startBridge();
    const sut = new HttpBridgeAdapter({ env: {} });
    await using _ = stopOnExit(sut);
    bridge.answer({ kind: 'reply', status: 204 });
    const settings = { base_url: `${bridge.url}/api/`, path: '/devices/{external_id}/cmd', method: 'POST' };

    const result = await sut.deliver(command({ externalId: 'sw-9', settings }), never);

    expect(result).toEqual({ kind: 'completed', outcome: 'succeeded', reported: undefined });
    expect(bridge.received.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /api/devices/sw-9/cmd']);
    expect(bridge.received[0]?.headers.authorization).toBeUndefined();
  });

  it('maps a 400 to completed/failed naming the status', async () => {
    await using bridge = await startBridge();
    const sut = new HttpBridgeAdapter({ env: { [TOKEN_ENV]: TOKEN } });
    await using _ = stopOnExit(sut);
    bridge.answer({ kind: 'reply', status: 400, body: { error: 'unknown action' } });

    const result = await sut.deliver(
      command({ settings: { base_url: bridge.url, token_env: TOKEN_ENV } }),
      never,
    );

    expect(result).toMatchObject({ kind: 'completed', outcome: 'failed' });
    expect(result.kind === 'completed' && result.reason).toMatch(/answered 400 .*unknown action/);
  });

  it.each([503, 500, 429, 408])(
    'throws VendorUnavailableError on %i without the token in the error',
    async (status) => {
      await using bridge = await startBridge();
      const sut = new HttpBridgeAdapter({ env: { [TOKEN_ENV]: TOKEN } });
      await using _ = stopOnExit(sut);
      // A bridge echoing the request back must not leak the token either.
      bridge.answer({ kind: 'reply', status, body: { echo: `Bearer ${TOKEN}` } });

      const error = await sut
        .deliver(command({ settings: { base_url: bridge.url, token_env: TOKEN_ENV } }), never)
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(VendorUnavailableError);
      expect((error as VendorUnavailableError).vendor).toBe('http-bridge');
      expect((error as Error).message).toContain(`answered ${status}`);
      expect(inspect(error, { depth: 5 })).not.toContain(TOKEN);
    },
  );

  it('aborts a request the bridge never answers as soon as the signal fires', async () => {
    await using bridge = await startBridge();
    const sut = new HttpBridgeAdapter({ env: { [TOKEN_ENV]: TOKEN } });
    await using _ = stopOnExit(sut);
    bridge.answer({ kind: 'hang' });
    const startedAt = performance.now();

    const error = await sut
      .deliver(
        command({ settings: { base_url: bridge.url, token_env: TOKEN_ENV } }),
        AbortSignal.timeout(200),
      )
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect((error as Error).message).toMatch(/aborted/);
    expect(inspect(error, { depth: 5 })).not.toContain(TOKEN);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
    expect(bridge.received).toHaveLength(1);
  });

  it('aborts a response body that stalls after the headers', async () => {
    await using bridge = await startBridge();
    const sut = new HttpBridgeAdapter({ env: {} });
    await using _ = stopOnExit(sut);
    bridge.answer({ kind: 'hang-body' });
    const startedAt = performance.now();

    await expect(
      sut.deliver(command({ settings: { base_url: bridge.url } }), AbortSignal.timeout(200)),
    ).rejects.toThrow(VendorUnavailableError);
    expect(performance.now() - startedAt).toBeLessThan(1_000);
  });

  it('throws VendorUnavailableError when nothing listens, without the token in the error', async () => {
    const port = await (async () => {
      await using closed = await startBridge();
      return closed.port;
    })();
    const sut = new HttpBridgeAdapter({ env: { [TOKEN_ENV]: TOKEN } });
    await using _ = stopOnExit(sut);

    const error = await sut
      .deliver(
        command({ settings: { base_url: `http://127.0.0.1:${port}`, token_env: TOKEN_ENV } }),
        AbortSignal.timeout(5_000),
      )
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(inspect(error, { depth: 5 })).not.toContain(TOKEN);
  });

  it('reuses one kept-alive connection across calls and closes it on stop', async () => {
    await using bridge = await startBridge();
    const sut = new HttpBridgeAdapter({ env: {} });
    await using _ = stopOnExit(sut);
    bridge.answer({ kind: 'reply', status: 200, body: { state: { on: false } } });
    const settings = { base_url: bridge.url };

    await sut.deliver(command({ settings }), never);
    await sut.deliver(command({ settings }), never);

    expect(bridge.received).toHaveLength(2);
    expect(bridge.connections()).toBe(1);
    expect(bridge.closedConnections()).toBe(0);

    await sut.stop();
    await expect.poll(() => bridge.closedConnections(), { timeout: 2_000 }).toBe(1);
  });

  it.each([
    [{}, 'base_url'],
    [{ base_url: 'ftp://bridge.local' }, 'base_url'],
    [{ base_url: 'http://admin:pw@bridge.local' }, 'base_url'],
    [{ base_url: 'http://bridge.local', method: 'GET' }, 'method'],
    [{ base_url: 'http://bridge.local', path: 'lights/{external_id}' }, 'path'],
    [{ base_url: 'http://bridge.local', token_env: 'not a name' }, 'token_env'],
  ])('refuses invalid settings %j as completed/failed naming %s', async (settings, key) => {
    const sut = new HttpBridgeAdapter({ env: {} });
    await using _ = stopOnExit(sut);

    const result = await sut.deliver(command({ settings }), never);

    expect(result).toMatchObject({ kind: 'completed', outcome: 'failed' });
    expect(result.kind === 'completed' && result.reason).toContain(key);
    expect(result.kind === 'completed' && result.reason).not.toContain('pw');
  });

  it('refuses a command without an external id and sends nothing', async () => {
    await using bridge = await startBridge();
    const sut = new HttpBridgeAdapter({ env: {} });
    await using _ = stopOnExit(sut);

    const result = await sut.deliver(command({ externalId: '', settings: { base_url: bridge.url } }), never);

    expect(result).toMatchObject({ kind: 'completed', outcome: 'failed' });
    expect(result.kind === 'completed' && result.reason).toContain('external_id');
    expect(bridge.received).toHaveLength(0);
  });

  it('refuses a token_env naming an unset variable, naming the variable and sending nothing', async () => {
    await using bridge = await startBridge();
    const sut = new HttpBridgeAdapter({ env: {} });
    await using _ = stopOnExit(sut);

    const result = await sut.deliver(
      command({ settings: { base_url: bridge.url, token_env: TOKEN_ENV } }),
      never,
    );

    expect(result).toMatchObject({ kind: 'completed', outcome: 'failed' });
    expect(result.kind === 'completed' && result.reason).toContain(
      `token_env: environment variable ${TOKEN_ENV}`,
    );
    expect(bridge.received).toHaveLength(0);
  });
});
