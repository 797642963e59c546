import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port')),
      );
    });
  });
}

/** Polls `url` until it answers 200 or `timeoutMs` passes. */
export async function waitForHttp(
  url: string,
  timeoutMs: number,
  isAlive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`process behind ${url} exited before it was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}

/** A child process whose output is kept for failure messages. */
export class ManagedProcess {
  readonly output: string[] = [];
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((ok) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        ok();
      }),
    );
  }

  get alive(): boolean {
    return this.exitCode === null && this.signal === null;
  }

  tail(lines = 40): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  waitForExit(): Promise<void> {
    return this.exited;
  }
}

/** A nats-server with JetStream on a spare port and its own store, isolated from any dev stack. */
export async function startNatsServer(): Promise<{
  url: string;
  process: ManagedProcess;
  dispose(): Promise<void>;
}> {
  const binary = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find((p) =>
    existsSync(p),
  );
  if (!binary)
    throw new Error('nats-server not found: install it (apt-get install nats-server) or run npm run servers');
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'conduit-e2e-nats-'));
  const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new ManagedProcess('nats-server', child);
  const deadline = Date.now() + 10_000;
  while (!proc.output.join('').includes('Server is ready')) {
    if (!proc.alive || Date.now() > deadline) throw new Error(`nats-server did not start:\n${proc.tail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    process: proc,
    async dispose() {
      await proc.stop('SIGTERM', 5_000);
      rmSync(store, { recursive: true, force: true });
    },
  };
}
