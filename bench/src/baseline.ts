import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running baseline server; `stop()` (or `await using`) ends the child process. */
export interface BaselineServer extends AsyncDisposable {
  readonly url: string;
  stop(): Promise<void>;
}

/** Response headers that are the connection's or the moment's rather than the resource's. */
const NOT_REPLAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

/**
 * The headers of a real response that the baseline should send too, so that both servers write
 * the same bytes (framing and per-response headers like `date` are the server's own business).
 */
export function replayableHeaders(headers: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    if (!NOT_REPLAYED.has(key)) out[key] = value;
  }
  return out;
}

/**
 * Starts a raw Fastify server in a child process (the same Node binary) that answers every GET
 * with `body` and `headers`. Its own process: a server sharing the load generator's event loop
 * would make the baseline, and so the ratio, meaningless.
 */
export async function startBaseline(
  body: string,
  headers: Readonly<Record<string, string>> = { 'content-type': 'application/json; charset=utf-8' },
): Promise<BaselineServer> {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-bench-'));
  const file = join(dir, 'body.json');
  writeFileSync(file, body);
  const child = spawn(process.execPath, [join(import.meta.dirname, 'baseline-server.js')], {
    env: { ...process.env, BASELINE_BODY_FILE: file, BASELINE_HEADERS: JSON.stringify(headers) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Never leave the server behind, whatever way this process ends.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('baseline server did not start within 10 s')), 10_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n', 2);
        if (line.length < 2) return;
        clearTimeout(timer);
        resolve((JSON.parse(line[0] ?? '') as { port: number }).port);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`baseline server exited with ${code}`));
      });
    });
    return { url: `http://127.0.0.1:${port}`, stop, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
