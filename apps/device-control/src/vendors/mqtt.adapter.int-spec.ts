import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MqttAdapter } from './mqtt.adapter.js';
import { VendorUnavailableError, type VendorAck, type VendorCommand } from './vendor.adapter.js';

const BROKER = process.env['MQTT_URL'] ?? 'mqtt://127.0.0.1:1883';

interface DeviceCommand {
  readonly command_id: string;
  readonly action: string;
  readonly params: Record<string, unknown>;
}

/**
 * A simulated device on the real broker: records the commands published to it and answers each
 * with the raw ack payloads `reply` returns, in order.
 */
async function startDevice(externalId: string, reply: (cmd: DeviceCommand) => (string | object)[]) {
  const client = await connectAsync(BROKER, { clientId: `device-${externalId}`, reconnectPeriod: 0 });
  const commands: DeviceCommand[] = [];
  client.on('message', (_topic, payload) => {
    const cmd = JSON.parse(payload.toString('utf8')) as DeviceCommand;
    commands.push(cmd);
    void (async () => {
      for (const ack of reply(cmd)) {
        const body = typeof ack === 'string' ? ack : JSON.stringify(ack);
        await client.publishAsync(`devices/${externalId}/acks`, body, { qos: 1 });
      }
    })();
  });
  await client.subscribeAsync(`devices/${externalId}/commands`, { qos: 1 });
  return {
    commands,
    async [Symbol.asyncDispose]() {
      await client.endAsync(true);
    },
  };
}

/** The adapter, started, and stopped when the test's scope ends (even after a failed assertion). */
async function startSut(url = BROKER, connectTimeoutMs?: number, sharedGroup?: string) {
  const acks: VendorAck[] = [];
  const sut = new MqttAdapter({
    url,
    connectTimeoutMs,
    sharedGroup,
    clientId: `device-control-test-${randomUUID()}`,
  });
  await sut.start((ack) => acks.push(ack));
  return { sut, acks, [Symbol.asyncDispose]: () => sut.stop() };
}

/** A port on 127.0.0.1 where nothing listens (was free a moment ago). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

const command = (overrides: Partial<VendorCommand> = {}): VendorCommand => ({
  commandId: `cmd-${randomUUID()}`,
  orgId: 'org-1',
  deviceId: 'dev-1',
  externalId: `ext-${randomUUID()}`,
  site: null,
  action: 'set_mode',
  params: { mode: 'eco' },
  attempt: 1,
  settings: {},
  ...overrides,
});

const never = new AbortController().signal;

describe(MqttAdapter.name, () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('replicas in one shared group get each ack once between them; without a group each gets all', async () => {
    const externalId = `ext-${randomUUID()}`;
    await using _device = await startDevice(externalId, (c) => [
      { command_id: c.command_id, status: 'succeeded' },
    ]);
    const group = `g-${randomUUID().slice(0, 8)}`;
    await using a = await startSut(BROKER, undefined, group);
    await using b = await startSut(BROKER, undefined, group);
    await using plain = await startSut();
    const sent = Array.from({ length: 10 }, () => command({ externalId }));

    for (const cmd of sent) await a.sut.deliver(cmd, never);

    await expect.poll(() => a.acks.length + b.acks.length, { timeout: 5_000 }).toBe(sent.length);
    await expect.poll(() => plain.acks.length, { timeout: 5_000 }).toBe(sent.length);
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive by now
    const shared = [...a.acks, ...b.acks].map((ack) => ack.commandId);
    expect(shared.sort()).toEqual(sent.map((c) => c.commandId).sort());
    // The broker spreads the group's messages over its members.
    expect(a.acks.length).toBeGreaterThan(0);
    expect(b.acks.length).toBeGreaterThan(0);
  });

  it('publishes the command to the device and passes its acks on with the command id and state', async () => {
    const cmd = command();
    await using device = await startDevice(cmd.externalId, (c) => [
      { command_id: c.command_id, status: 'delivered' },
      { command_id: c.command_id, status: 'succeeded', state: { mode: 'eco', temp: 21.5 } },
    ]);
    await using adapter = await startSut();
    const { sut, acks } = adapter;

    const result = await sut.deliver(cmd, never);

    expect(result).toEqual({ kind: 'sent' });
    await expect.poll(() => acks.length, { timeout: 5_000 }).toBe(2);
    expect(acks).toEqual([
      { commandId: cmd.commandId, externalId: cmd.externalId, outcome: 'delivered' },
      {
        commandId: cmd.commandId,
        externalId: cmd.externalId,
        outcome: 'succeeded',
        reported: { mode: 'eco', temp: 21.5 },
      },
    ]);
    expect(device.commands).toEqual([
      { command_id: cmd.commandId, action: 'set_mode', params: { mode: 'eco' } },
    ]);
  });

  it('logs and ignores malformed acks, still passing on a valid one after them', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const cmd = command();
    await using _device = await startDevice(cmd.externalId, (c) => [
      'not json {',
      { command_id: c.command_id, status: 'exploded' },
      { status: 'succeeded' },
      { command_id: c.command_id, status: 'succeeded', state: 'not an object' },
      { command_id: c.command_id, status: 'failed', reason: 'jammed' },
    ]);
    await using adapter = await startSut();
    const { sut, acks } = adapter;

    await sut.deliver(cmd, never);

    // The device publishes in order on one topic at QoS 1, so the valid ack comes last.
    await expect.poll(() => acks.length, { timeout: 5_000 }).toBe(1);
    expect(acks).toEqual([
      { commandId: cmd.commandId, externalId: cmd.externalId, outcome: 'failed', reason: 'jammed' },
    ]);
    const ignored = warn.mock.calls.filter(
      ([message]) => typeof message === 'string' && message.includes(`devices/${cmd.externalId}/acks`),
    );
    expect(ignored).toHaveLength(4);
  });

  it('throws VendorUnavailableError quickly when no broker listens', async () => {
    const startedAt = performance.now();
    await using adapter = await startSut(`mqtt://127.0.0.1:${await deadPort()}`, 1_000);

    await expect(adapter.sut.deliver(command(), AbortSignal.timeout(5_000))).rejects.toThrow(
      VendorUnavailableError,
    );
    expect(performance.now() - startedAt).toBeLessThan(2_000);
  });

  it('throws VendorUnavailableError for an aborted signal and after stop', async () => {
    await using adapter = await startSut();
    const { sut } = adapter;

    await expect(sut.deliver(command(), AbortSignal.abort())).rejects.toThrow(VendorUnavailableError);
    await sut.stop();
    await expect(sut.deliver(command(), never)).rejects.toThrow(/not connected/);
  });

  it.each(['', 'a/b', 'room+1', 'all#'])(
    'refuses external id %j, which is not one topic level, as completed/failed',
    async (externalId) => {
      await using adapter = await startSut();

      const result = await adapter.sut.deliver(command({ externalId }), never);

      expect(result).toMatchObject({ kind: 'completed', outcome: 'failed' });
      expect(result.kind === 'completed' && result.reason).toContain('external_id');
    },
  );
});
