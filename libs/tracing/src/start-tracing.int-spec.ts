import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startTracing } from './start-tracing.js';
import { startOtlpReceiver, type ReceivedSpan } from './testing/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`./testing/fixtures/${name}`, import.meta.url));

interface ChildResult {
  readonly traceId?: string;
  readonly carrier: Record<string, string>;
}

/**
 * Runs the ESM fixture the way a service starts (`node --import instrument.mjs main.mjs`), in a
 * process of its own: instrumentation has to be in place before the drivers load, which a vitest
 * worker that already imported them cannot show.
 */
async function runEsmChild(env: Record<string, string | undefined>): Promise<ChildResult> {
  const child = spawn(process.execPath, ['--import', fixture('instrument.mjs'), fixture('esm-drivers.mjs')], {
    env: {
      ...process.env,
      PROOF_PG_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      PROOF_REDIS_URL: 'redis://127.0.0.1:6379',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`ESM child exited with ${code}:\n${stderr}`);
  return JSON.parse(stdout) as ChildResult;
}

describe(startTracing.name, () => {
  it('makes pg, ioredis and http spans under ESM, children of the active span', async () => {
    await using receiver = await startOtlpReceiver();

    const result = await runEsmChild({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_SAMPLER_RATIO: '1',
      PROOF_SERVICE_NAME: 'esm-proof',
    });

    // The child flushed before exiting, and the receiver answers an export only once it holds it.
    const spans = receiver.spans();
    const root = spans.find((s) => s.name === 'esm-proof');
    const inTrace = spans.filter((s) => s.traceId === root?.traceId);
    const childrenOfRoot = (match: (s: ReceivedSpan) => boolean) =>
      inTrace.filter((s) => s.parentSpanId === root?.spanId && match(s));
    const pgQuery = childrenOfRoot((s) => s.name.startsWith('pg.query'));
    const redis = childrenOfRoot((s) => s.attributes['db.system.name'] === 'redis');
    const httpClient = childrenOfRoot((s) => s.kind === 'client' && s.name === 'GET');
    const httpServer = inTrace.filter((s) => s.kind === 'server' && s.parentSpanId === httpClient[0]?.spanId);

    expect(root?.serviceName).toBe('esm-proof');
    expect(result.traceId).toBe(root?.traceId);
    expect(pgQuery).toHaveLength(1);
    expect(pgQuery[0]?.attributes['db.query.text']).toBe('SELECT 1 AS one');
    expect(redis.map((s) => s.name)).toContain('ping');
    expect(httpClient).toHaveLength(1);
    expect(httpServer).toHaveLength(1);
    expect(spans.every((s) => s.serviceName === 'esm-proof')).toBe(true);
  });

  it('without an endpoint still makes and propagates trace ids, unsampled', async () => {
    const result = await runEsmChild({ OTEL_EXPORTER_OTLP_ENDPOINT: '' });

    expect(result.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(result.traceId).not.toBe('0'.repeat(32));
    expect(result.carrier['traceparent']).toMatch(new RegExp(`^00-${result.traceId}-[0-9a-f]{16}-00$`));
  });
});
