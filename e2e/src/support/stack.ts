import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, ROOT, freePort, startNatsServer, waitForHttp } from './processes.js';

export const SERVICES = ['gateway', 'device-control', 'telemetry', 'analytics', 'llm-experiments'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface StackOptions {
  /** Services to run (default: all five). */
  readonly services?: readonly ServiceName[];
  /** Extra environment for every service (e.g. OTEL_EXPORTER_OTLP_ENDPOINT). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * The built services as real processes (dist/, so `npm run build` first) against a private
 * nats-server, the test database behind PgBouncer, and Redis. Dispose stops everything.
 */
export class TestStack implements AsyncDisposable {
  // Keyed by replica id: the service name, or e.g. `telemetry#2` for a second replica.
  private readonly processes = new Map<string, ManagedProcess>();
  private readonly ports = new Map<string, number>();
  private readonly keys = new Map<string, Promise<string>>();
  /** The gateway's bootstrap admin key (platform admin of the bootstrap org `dev-org`). */
  readonly adminKey = `cdt_e2e_${randomBytes(24).toString('base64url')}`;

  private constructor(
    readonly natsUrl: string,
    private readonly env: Readonly<Record<string, string>>,
    private readonly disposeNats: () => Promise<void>,
  ) {}

  static async start(options: StackOptions = {}): Promise<TestStack> {
    const main = join(ROOT, 'dist/apps/gateway/src/main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run 'npm run build' before the e2e suite`);
    const nats = await startNatsServer();
    const stack = new TestStack(nats.url, options.env ?? {}, () => nats.dispose());
    try {
      // device-control first: its migrations and stream provisioning are then done when the gateway starts.
      for (const service of options.services ?? SERVICES) await stack.startService(service);
    } catch (error) {
      await stack[Symbol.asyncDispose]();
      throw error;
    }
    return stack;
  }

  url(service: ServiceName | string): string {
    const port = this.ports.get(service);
    if (port === undefined) throw new Error(`${service} was never started`);
    return `http://127.0.0.1:${port}`;
  }

  get gatewayUrl(): string {
    return this.url('gateway');
  }

  process(service: ServiceName | string): ManagedProcess {
    const proc = this.processes.get(service);
    if (!proc) throw new Error(`${service} is not running`);
    return proc;
  }

  /**
   * Starts (or restarts, on the same port) one service and waits for its /readyz. `replica`
   * names a further process of the same service (e.g. `telemetry#2`).
   */
  async startService(
    service: ServiceName,
    extraEnv: Readonly<Record<string, string>> = {},
    replica: string = service,
  ): Promise<void> {
    const port = this.ports.get(replica) ?? (await freePort());
    this.ports.set(replica, port);
    const dist = join(ROOT, 'dist/apps', service, 'src');
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', '--import', join(dist, 'instrument.js'), join(dist, 'main.js')],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env['PATH'],
          HOME: process.env['HOME'],
          CONDUIT_PRESET: 'test',
          LOG_LEVEL: 'warn',
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: String(port),
          NATS_URL: this.natsUrl,
          OTEL_BSP_SCHEDULE_DELAY: '100',
          GATEWAY_BOOTSTRAP_ADMIN_KEY: this.adminKey,
          ...this.env,
          ...extraEnv,
        },
      },
    );
    const proc = new ManagedProcess(replica, child);
    this.processes.set(replica, proc);
    try {
      await waitForHttp(`${this.url(replica)}/readyz`, 30_000, () => proc.alive);
    } catch (error) {
      throw new Error(`${replica} did not become ready: ${(error as Error).message}\n${proc.tail()}`, {
        cause: error,
      });
    }
  }

  /**
   * A key of `orgId` with `role`, created once through the admin API (the org too, in `tier`,
   * default `internal`: limits no test reaches unless it means to).
   */
  keyFor(orgId: string, role: 'admin' | 'operator' | 'viewer' = 'admin', tier = 'internal'): Promise<string> {
    const id = `${orgId}/${role}`;
    let key = this.keys.get(id);
    if (!key) {
      key = this.createKey(orgId, role, tier);
      key.catch(() => this.keys.delete(id));
      this.keys.set(id, key);
    }
    return key;
  }

  /** `authorization: Bearer <key>` of {@link keyFor}. */
  async authHeaders(
    orgId: string,
    role: 'admin' | 'operator' | 'viewer' = 'admin',
  ): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.keyFor(orgId, role)}` };
  }

  private async createKey(orgId: string, role: string, tier: string): Promise<string> {
    const admin = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const res = await fetch(`${this.gatewayUrl}/api/v1/admin/orgs${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.adminKey}` },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, unknown>;
      if (res.status !== 201 && !(res.status === 409 && path === '')) {
        throw new Error(`POST /api/v1/admin/orgs${path}: ${res.status} ${JSON.stringify(json)}`);
      }
      return json;
    };
    await admin('', { id: orgId, name: orgId, tier });
    const user = await admin(`/${orgId}/users`, {
      email: `${role}-${randomBytes(4).toString('hex')}@${orgId}.test`,
    });
    const created = await admin(`/${orgId}/keys`, { user_id: user['id'], role, name: `e2e ${role}` });
    return created['key'] as string;
  }

  /** Stops one service or replica (SIGTERM unless told otherwise). */
  async stopService(service: ServiceName | string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.processes.get(service)?.stop(signal);
    this.processes.delete(service);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all([...this.processes.keys()].map((s) => this.stopService(s)));
    await this.disposeNats();
  }
}
