import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestStack } from './support/stack.js';

const DIRECT = process.env['MIGRATION_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/conduit_test';
/** SHUTDOWN_GRACE_MS of the test preset. */
const GRACE_MS = 5_000;

/** SIGTERM: the work in hand finishes, acknowledgements go out, NATS drains, exit 0 within the grace. */
describe('graceful shutdown', () => {
  let stack: TestStack;
  let db: pg.Client;
  let nats: NatsConnection;
  const org = `sd-${randomUUID().slice(0, 8)}`;
  const start = Date.now() - 3_600_000;

  beforeAll(async () => {
    // Request lines on (info): the gateway test counts them after its exit.
    stack = await TestStack.start({ services: ['telemetry', 'gateway'], env: { LOG_LEVEL: 'info' } });
    db = new pg.Client({ connectionString: DIRECT });
    await db.connect();
    nats = await connect({ servers: stack.natsUrl });
  });
  afterAll(async () => {
    await nats?.close();
    await db?.end();
    await stack?.[Symbol.asyncDispose]();
  });

  const count = async () =>
    Number((await db.query('SELECT count(*) AS n FROM telemetry.points WHERE org_id = $1', [org])).rows[0].n);
  const batch = (r: number) =>
    JSON.stringify({
      points: Array.from({ length: 1000 }, (_, i) => ({
        device_id: `d${r % 20}`,
        metric: 'v',
        ts: start + Math.floor(r / 20) * 1000 + i,
        value: i,
      })),
    });
  const post = async (r: number) => {
    const res = await fetch(`${stack.gatewayUrl}/api/v1/telemetry/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await stack.authHeaders(org)) },
      body: batch(r),
    });
    return res.status;
  };
  const writer = async () => (await jetstreamManager(nats)).consumers.info('TELEMETRY', 'telemetry-writer');

  it('the telemetry writer finishes and acknowledges the batch in hand, exits 0, and nothing is redelivered', async () => {
    const statuses = await Promise.all(Array.from({ length: 200 }, (_, r) => post(r)));
    expect(statuses.every((s) => s === 202)).toBe(true);
    const before = await writer();
    const redeliveredBefore = before.num_redelivered;
    // Stop it while it is writing: some points committed, some still to come.
    for (let i = 0; i < 100 && (await count()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const proc = stack.process('telemetry');
    await stack.stopService('telemetry', 'SIGTERM');
    const tookMs = Date.now() - t0;
    expect(proc.signal).toBeNull();
    expect(proc.exitCode).toBe(0);
    expect(tookMs).toBeLessThan(GRACE_MS);
    // Whatever it had been handed, it acknowledged before exiting.
    expect((await writer()).num_ack_pending).toBe(0);
    const atStop = await count();
    expect(atStop).toBeGreaterThan(0);
    await stack.startService('telemetry');
    const deadline = Date.now() + 60_000;
    while ((await count()) < 200_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await count()).toBe(200_000);
    // A clean stop hands nothing back for redelivery.
    expect((await writer()).num_redelivered).toBe(redeliveredBefore);
  });

  it('the gateway answers the requests in flight before it exits 0, and no accepted batch is lost', async () => {
    const headers = { 'content-type': 'application/json', ...(await stack.authHeaders(org)) };
    // Plain http.request on a fresh connection each, so that the outcome of each one is visible:
    // an HTTP status, or a connection-level refusal.
    const send = (r: number) =>
      new Promise<number | string>((resolve) => {
        const payload = batch(1_000 + r);
        const url = new URL(`${stack.gatewayUrl}/api/v1/telemetry/batch`);
        const req = request(
          url,
          { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(payload) } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        req.end(payload);
      });
    const proc = stack.process('gateway');
    // Request lines of answered batches in the gateway's output (written every 200 ms or 4 KB).
    const answeredLines = () =>
      proc.output
        .join('')
        .split('\n')
        .filter(
          (l) =>
            l.includes('"request completed"') &&
            l.includes('/api/v1/telemetry/batch') &&
            l.includes('"status":202'),
        ).length;
    const before = await count();
    await new Promise((r) => setTimeout(r, 300));
    const linesBefore = answeredLines();
    const inFlight = Array.from({ length: 40 }, (_, r) => send(r));
    await new Promise((r) => setTimeout(r, 30));
    await stack.stopService('gateway', 'SIGTERM');
    const results = await Promise.all(inFlight);
    expect(proc.exitCode).toBe(0);
    // No request it was handling failed (before the fix, NATS drained first and they got 503);
    // what it had not begun to read when the listener closed is refused at the connection
    // (never read, so safe to retry), never cut off half-way.
    const accepted = results.filter((r) => r === 202).length;
    expect(accepted).toBeGreaterThan(0);
    expect(results.filter((r) => r !== 202 && r !== 'ECONNREFUSED' && r !== 'ECONNRESET')).toEqual([]);
    // Its buffered log lines were written before it exited: one per answered request.
    expect(answeredLines() - linesBefore).toBe(accepted);
    // Exactly the answered batches land: each 202 was durable, nothing refused was half-published.
    const deadline = Date.now() + 60_000;
    while ((await count()) < before + accepted * 1000 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 500));
    expect(await count()).toBe(before + accepted * 1000);
    await stack.startService('gateway');
  });
});
