import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A raw Fastify server in a child process answering every GET with `body`. */
export async function startBaseline(body: string): Promise<{ url: string; stop(): void }> {
  const file = join(mkdtempSync(join(tmpdir(), 'conduit-bench-')), 'body.json');
  writeFileSync(file, body);
  const child: ChildProcess = spawn(process.execPath, [join(import.meta.dirname, 'baseline-server.js')], {
    env: { ...process.env, BASELINE_BODY_FILE: file },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) =>
      resolve((JSON.parse(chunk.toString()) as { port: number }).port),
    );
    child.once('exit', (code) => reject(new Error(`baseline server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}
