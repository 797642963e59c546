import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import * as contracts from '@conduit/contracts';
import { STREAMS, type RequestContract } from '@conduit/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManagedProcess, ROOT, freePort } from './support/processes.js';
import { SERVICES, TestStack, type ServiceName } from './support/stack.js';

// deploy/nats/nats-server.conf itself, on a spare port with a private store: the users and
// permissions the compose file and the NATS Helm chart deploy.
const CONF = join(ROOT, 'deploy/nats/nats-server.conf');
const USERS = [...SERVICES, 'ingest-acme', 'ingest-globex'] as const;
type User = (typeof USERS)[number];
const passwordVariable = (user: User) => `NATS_${user.toUpperCase().replaceAll('-', '_')}_PASSWORD`;
// nats-server parses an environment variable as a config value: a password must read as a bare
// string (start with a letter), as documented in the config file.
const passwords = Object.fromEntries(USERS.map((u) => [u, `p${randomBytes(12).toString('hex')}`])) as Record<
  User,
  string
>;

/** Every request contract exported by @conduit/contracts (`DeviceRequests`, `TelemetryRequests`, …). */
function requestContracts(): RequestContract[] {
  const isContract = (v: unknown): v is RequestContract =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as RequestContract).subject === 'string' &&
    typeof (v as RequestContract).queue === 'string';
  return Object.values(contracts).flatMap((group) =>
    typeof group === 'object' && group !== null ? Object.values(group).filter(isContract) : [],
  );
}

/** A connection that records the permission violations the server reports to it. */
class Client implements AsyncDisposable {
  readonly violations: PermissionViolationError[] = [];

  private constructor(readonly nc: NatsConnection) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'error' && s.error instanceof PermissionViolationError) this.violations.push(s.error);
      }
    })();
  }

  static async open(url: string, user: User, options: { inboxPrefix?: string } = {}): Promise<Client> {
    return new Client(await connect({ servers: url, user, pass: passwords[user], ...options }));
  }

  /** The violations `action` caused (the server answers a PING only after it judged what came before). */
  async violationsOf(action: () => unknown): Promise<string[]> {
    const before = this.violations.length;
    await action();
    await this.nc.flush();
    await new Promise((r) => setTimeout(r, 20));
    return this.violations
      .slice(before)
      .map((v) => `${v.operation} ${v.subject}${v.queue ? ` ${v.queue}` : ''}`);
  }

  publishes(subject: string): Promise<string[]> {
    return this.violationsOf(() => this.nc.publish(subject, '{}'));
  }

  subscribes(subject: string, queue?: string): Promise<string[]> {
    return this.violationsOf(() => this.nc.subscribe(subject, queue ? { queue } : {}));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.nc.close();
  }
}

describe('deploy/nats/nats-server.conf', () => {
  let url: string;
  let server: ManagedProcess;
  let store: string;
  const clients: Client[] = [];
  // Services connect with the inbox prefix libs/messaging gives them (`_INBOX_<service>`).
  const as = async (user: User, options: { inboxPrefix?: string } = {}) => {
    const inboxPrefix =
      options.inboxPrefix ?? ((SERVICES as readonly string[]).includes(user) ? `_INBOX_${user}` : undefined);
    const client = await Client.open(url, user, inboxPrefix ? { inboxPrefix } : {});
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    const binary = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find((p) =>
      existsSync(p),
    );
    if (!binary) throw new Error('nats-server not found (apt-get install nats-server)');
    const [port, monitor] = [await freePort(), await freePort()];
    store = mkdtempSync(join(tmpdir(), 'conduit-e2e-natsperm-'));
    server = new ManagedProcess(
      'nats-server',
      spawn(
        binary,
        ['-c', CONF, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitor), '-sd', store],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            PATH: process.env['PATH'],
            ...Object.fromEntries(USERS.map((u) => [passwordVariable(u), passwords[u]])),
          },
        },
      ),
    );
    const deadline = Date.now() + 10_000;
    while (!server.output.join('').includes('Server is ready')) {
      if (!server.alive || Date.now() > deadline)
        throw new Error(`nats-server did not start:\n${server.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    url = `nats://127.0.0.1:${port}`;
  });

  // A test's subscriptions join the real queue groups: closed before the next test, they cannot
  // take requests meant for the services.
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c[Symbol.asyncDispose]().catch(() => undefined)));
  });

  afterAll(async () => {
    await server?.stop('SIGTERM', 5_000);
    if (store) rmSync(store, { recursive: true, force: true });
  });

  it('refuses a wrong password and an unknown user', async () => {
    await expect(connect({ servers: url, user: 'telemetry', pass: 'wrong' })).rejects.toThrow(/authoriz/i);
    await expect(connect({ servers: url, user: 'root', pass: 'root' })).rejects.toThrow(/authoriz/i);
  });

  it('lets the owner of every request contract serve it in its own queue group only, and the gateway call it', async () => {
    const found = requestContracts();
    expect(found.length).toBeGreaterThanOrEqual(10);
    const gateway = await as('gateway');
    for (const contract of found) {
      const owner = contract.queue as ServiceName;
      expect(SERVICES, `queue ${contract.queue} of ${contract.subject} is a service`).toContain(owner);
      const sut = await as(owner);
      expect(await sut.subscribes(contract.subject, contract.queue), contract.subject).toEqual([]);
      // without the queue group a replica would get every request, not its share
      expect(await sut.subscribes(contract.subject)).toEqual([`subscription ${contract.subject}`]);
      expect(await sut.subscribes(contract.subject, 'intruders')).toEqual([
        `subscription ${contract.subject} intruders`,
      ]);
      expect(await gateway.publishes(contract.subject), `gateway may call ${contract.subject}`).toEqual([]);
      for (const other of SERVICES.filter((s) => s !== owner && s !== 'gateway')) {
        const stranger = await as(other);
        expect(
          await stranger.subscribes(contract.subject, contract.queue),
          `${other} serving ${contract.subject}`,
        ).toHaveLength(1);
      }
    }
  });

  it('keeps each service to its own publish and subscribe subjects', async () => {
    const telemetry = await as('telemetry');
    const gateway = await as('gateway');
    const deviceControl = await as('device-control');
    const analytics = await as('analytics');

    expect(await telemetry.publishes('device.o1.d1.registered')).toHaveLength(1);
    expect(await telemetry.publishes('telemetry.ingest.o1.d1')).toHaveLength(1);
    expect(await telemetry.publishes('svc.device.list')).toHaveLength(1);
    expect(await telemetry.publishes('$JS.API.STREAM.DELETE.TELEMETRY')).toHaveLength(1);
    expect(await telemetry.publishes('$JS.API.STREAM.PURGE.TELEMETRY')).toHaveLength(1);
    expect(await telemetry.publishes('$JS.API.STREAM.CREATE.EVIL')).toHaveLength(1);
    expect(
      await telemetry.publishes('$JS.API.CONSUMER.MSG.NEXT.TELEMETRY.device-control-presence'),
    ).toHaveLength(1);
    expect(await telemetry.publishes('dlq.TELEMETRY.telemetry-writer')).toEqual([]);
    expect(await telemetry.publishes('$JS.ACK.TELEMETRY.telemetry-writer.1.2.3.4.5.6')).toEqual([]);
    expect(await telemetry.subscribes('telemetry.ingest.>')).toHaveLength(1);
    expect(await telemetry.subscribes('>')).toHaveLength(1);

    expect(await gateway.publishes('telemetry.ingest.o1.d1')).toEqual([]);
    expect(await gateway.publishes('device.o1.d1.registered')).toHaveLength(1);
    expect(await gateway.publishes('alert.o1.raised')).toHaveLength(1);
    expect(await gateway.publishes('cache.invalidate.resp')).toEqual([]);
    expect(await gateway.publishes('cache.invalidate.other')).toHaveLength(1);
    expect(await gateway.subscribes('device.*.*.*', 'gateway-response-cache')).toEqual([]);
    expect(await gateway.subscribes('device.>')).toHaveLength(1);

    expect(await deviceControl.publishes('device.o1.d1.registered')).toEqual([]);
    expect(await deviceControl.publishes('conduit.breaker.device-control.state_changed')).toEqual([]);
    expect(await deviceControl.publishes('conduit.breaker.gateway.state_changed')).toHaveLength(1);
    expect(await deviceControl.publishes('svc.telemetry.latest')).toEqual([]);
    expect(await deviceControl.publishes('svc.telemetry.query')).toHaveLength(1);
    expect(await deviceControl.publishes('alert.o1.raised')).toHaveLength(1);
    expect(await deviceControl.publishes('cache.invalidate.auth')).toHaveLength(1);

    expect(await analytics.publishes('alert.o1.raised')).toEqual([]);
    expect(await analytics.publishes('device.o1.d1.registered')).toHaveLength(1);
    expect(await analytics.publishes('llm.o1.run_completed')).toHaveLength(1);

    for (const user of SERVICES) {
      const sut = await as(user);
      expect(await sut.subscribes('conduit.perf.health'), user).toEqual([]);
      expect(await sut.publishes('$JS.API.STREAM.UPDATE.TELEMETRY'), user).toEqual([]);
    }
  });

  it('lets an org ingest user publish only onto telemetry.ingest.<its org>.>, acknowledged on its own inbox', async () => {
    const provisioner = await as('telemetry');
    const jsm = await jetstreamManager(provisioner.nc);
    await jsm.streams.add({ name: STREAMS.TELEMETRY.name, subjects: [...STREAMS.TELEMETRY.subjects] });
    const device = `dev-${randomUUID().slice(0, 8)}`;

    const sut = await as('ingest-acme', { inboxPrefix: '_INBOX_acme' });
    const js = jetstream(sut.nc);
    const ack = await js.publish(`telemetry.ingest.acme.${device}`, '{"points":[]}');
    expect(ack.stream).toBe('TELEMETRY');
    expect(ack.seq).toBeGreaterThan(0);

    expect(
      await sut.violationsOf(() =>
        js.publish(`telemetry.ingest.globex.${device}`, '{}', { timeout: 500 }).catch(() => undefined),
      ),
    ).toEqual([`publish telemetry.ingest.globex.${device}`]);
    expect(await sut.publishes('device.acme.d1.registered')).toHaveLength(1);
    expect(await sut.publishes('svc.device.list')).toHaveLength(1);
    expect(await sut.publishes('$JS.API.STREAM.INFO.TELEMETRY')).toHaveLength(1);
    // no reading: not the stream, not other users' replies
    expect(await sut.subscribes('telemetry.ingest.acme.>')).toHaveLength(1);
    expect(await sut.subscribes('_INBOX.>')).toHaveLength(1);
    expect(await sut.subscribes('_INBOX_globex.>')).toHaveLength(1);

    // Nor may a service read another's replies, or the shared default inbox.
    const telemetry = await as('telemetry');
    expect(await telemetry.subscribes('_INBOX_gateway.>')).toHaveLength(1);
    expect(await telemetry.subscribes('_INBOX.>')).toHaveLength(1);
    expect(await telemetry.subscribes('_INBOX_telemetry.>')).toEqual([]);

    const globex = await as('ingest-globex', { inboxPrefix: '_INBOX_globex' });
    expect(await globex.publishes(`telemetry.ingest.acme.${device}`)).toHaveLength(1);

    const stored = await jsm.streams.info('TELEMETRY', { subjects_filter: `telemetry.ingest.*.${device}` });
    expect(stored.state.subjects).toEqual({ [`telemetry.ingest.acme.${device}`]: 1 });
  });

  it('runs the five built services under their own users: register, ingest, query, shadow and performance health work', async () => {
    const main = join(ROOT, 'dist/apps/gateway/src/main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run 'npm run build' before the e2e suite`);
    const logFrom = server.output.join('').length; // earlier tests' violations are logged too
    // TestStack's own nats-server stays unused: every service is pointed at this one.
    await using stack = await TestStack.start({ services: [], env: { NATS_URL: url } });
    for (const service of [
      'device-control',
      'telemetry',
      'analytics',
      'llm-experiments',
      'gateway',
    ] as const) {
      await stack.startService(service, { NATS_USER: service, NATS_PASSWORD: passwords[service] });
    }
    const org = `natsperm-${randomUUID().slice(0, 8)}`;
    const headers = { 'content-type': 'application/json', ...(await stack.authHeaders(org)) };
    const call = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${stack.gatewayUrl}${path}`, { ...init, headers });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    const created = await call('/api/v1/devices', {
      method: 'POST',
      body: JSON.stringify({ name: 'lamp', type: 'light' }),
    });
    expect(created.status).toBe(201);
    const deviceId = created.body['id'] as string;
    const ts = new Date(Date.now() - 60_000).toISOString();
    const accepted = await call('/api/v1/telemetry/batch', {
      method: 'POST',
      body: JSON.stringify({ points: [{ device_id: deviceId, metric: 'temp', ts, value: 21.5 }] }),
    });
    expect(accepted.status).toBe(202);

    // telemetry-writer (consumer API, acks) stored it; device-control reads it through svc.telemetry.latest
    const deadline = Date.now() + 15_000;
    let latest: unknown[] = [];
    while (Date.now() < deadline) {
      latest = ((await call(`/api/v1/telemetry/${deviceId}/latest`)).body['data'] ?? []) as unknown[];
      if (latest.length > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(latest).toHaveLength(1);
    const shadow = await call(`/api/v1/devices/${deviceId}/state`);
    expect(shadow.status).toBe(200);
    expect(shadow.body['reported']).toMatchObject({ temp: 21.5 });

    const health = await call('/performance/health');
    expect(health.status).toBe(200);
    const services = health.body['services'] as Record<string, { status: string }>;
    expect(Object.fromEntries(SERVICES.map((s) => [s, services[s]?.status]))).toEqual(
      Object.fromEntries(SERVICES.map((s) => [s, 'ok'])),
    );

    const violations = server.output
      .join('')
      .slice(logFrom)
      .split('\n')
      .filter((line) => /violation/i.test(line));
    expect(violations).toEqual([]);
    for (const service of SERVICES)
      expect(stack.process(service).output.join(''), service).not.toMatch(/permission/i);
  });
});
