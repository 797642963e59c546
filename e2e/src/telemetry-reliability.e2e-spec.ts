import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestStack } from './support/stack.js';

const DIRECT = process.env['MIGRATION_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/conduit_test';

describe('telemetry writer reliability', () => {
  let stack: TestStack;
  let db: pg.Client;
  const start = Date.now() - 3_600_000;

  const count = async (org: string) =>
    Number((await db.query('SELECT count(*) AS n FROM telemetry.points WHERE org_id = $1', [org])).rows[0].n);
  const committed = async (org: string) =>
    Number(
      (
        await db.query('SELECT coalesce(sum(count), 0) AS n FROM telemetry.points_hourly WHERE org_id = $1', [
          org,
        ])
      ).rows[0].n,
    );
  const until = async (probe: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error('not reached in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /** Sends `requests` batches of 1 000 points (one device each), 8 in flight; all must be 202. */
  const ingest = async (org: string, requests: number, first = 0) => {
    let next = first;
    requests += first;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < requests) {
          const r = next++;
          const points = Array.from({ length: 1000 }, (_, i) => ({
            device_id: `d${r % 50}`,
            metric: i % 2 ? 'a' : 'b',
            ts: start + Math.floor(r / 50) * 1000 + i,
            value: i,
          }));
          const res = await fetch(`${stack.gatewayUrl}/api/v1/telemetry/batch`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(await stack.authHeaders(org)) },
            body: JSON.stringify({ points }),
          });
          expect(res.status).toBe(202);
        }
      }),
    );
  };

  /** Both rollups (hourly, 5-minute) equal a recount from raw points, and no point is stored twice. */
  const expectConsistent = async (org: string) => {
    const mismatches5m = await db.query(
      `SELECT coalesce(r.device_id, f.device_id) AS device_id FROM
         (SELECT device_id, metric, date_bin('5 minutes', ts, '2000-01-01T00:00:00Z') AS bucket, count(*) AS c,
                 sum(value) AS s
            FROM telemetry.points WHERE org_id = $1 GROUP BY 1, 2, 3) r
         FULL JOIN (SELECT device_id, metric, bucket, count AS c, sum AS s FROM telemetry.points_5m WHERE org_id = $1) f
           USING (device_id, metric, bucket)
        WHERE r.c IS DISTINCT FROM f.c OR r.s IS DISTINCT FROM f.s`,
      [org],
    );
    expect(mismatches5m.rowCount).toBe(0);
    const mismatches = await db.query(
      `SELECT coalesce(r.device_id, h.device_id) AS device_id FROM
         (SELECT device_id, metric, date_trunc('hour', ts, 'UTC') AS hour, count(*) AS c, sum(value) AS s
            FROM telemetry.points WHERE org_id = $1 GROUP BY 1, 2, 3) r
         FULL JOIN (SELECT device_id, metric, hour, count AS c, sum AS s FROM telemetry.points_hourly WHERE org_id = $1) h
           USING (device_id, metric, hour)
        WHERE r.c IS DISTINCT FROM h.c OR r.s IS DISTINCT FROM h.s`,
      [org],
    );
    expect(mismatches.rowCount).toBe(0);
    const duplicates = await db.query(
      `SELECT 1 FROM telemetry.points WHERE org_id = $1 GROUP BY device_id, metric, ts HAVING count(*) > 1 LIMIT 1`,
      [org],
    );
    expect(duplicates.rowCount).toBe(0);
  };

  beforeAll(async () => {
    // A short ack wait so that what a killed writer held is redelivered within the test.
    stack = await TestStack.start({ services: ['telemetry', 'gateway'], env: { CONSUMER_ACK_WAIT_S: '3' } });
    db = new pg.Client({ connectionString: DIRECT });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.[Symbol.asyncDispose]();
  });

  it('ends with exactly 1 000 000 rows after the writer is SIGKILLed mid-ingest and restarted', async () => {
    const org = `kill-${randomUUID().slice(0, 8)}`;
    await ingest(org, 1000);
    await until(async () => (await committed(org)) > 0, 30_000);
    await stack.stopService('telemetry', 'SIGKILL');
    const atKill = await committed(org);
    expect(atKill).toBeLessThan(1_000_000);
    await stack.startService('telemetry', { CONSUMER_ACK_WAIT_S: '3' });
    await until(async () => (await committed(org)) >= 1_000_000, 120_000);
    expect(await count(org)).toBe(1_000_000);
    await expectConsistent(org);
  });

  it('keeps answering 202 while Postgres is down for 20 s, reads answer 503, and nothing is lost', async () => {
    const org = `pgdown-${randomUUID().slice(0, 8)}`;
    const version = readdirSync('/etc/postgresql').sort().at(-1) ?? '15';
    const cluster = (action: 'stop' | 'start') =>
      execFileSync('pg_ctlcluster', [
        '--skip-systemctl-redirect',
        version,
        'main',
        action,
        ...(action === 'stop' ? ['-m', 'fast'] : []),
      ]);
    await ingest(org, 20);
    await until(async () => (await committed(org)) >= 20_000, 30_000);
    await db.end();
    cluster('stop');
    let accepted = 20;
    let readStatus: number | undefined;
    try {
      const outageEnds = Date.now() + 20_000;
      while (Date.now() < outageEnds) {
        await ingest(org, 1, accepted++);
        await new Promise((r) => setTimeout(r, 250));
      }
      const from = new Date(start - 3_600_000).toISOString();
      const read = await fetch(
        `${stack.gatewayUrl}/api/v1/telemetry/d0?from=${from}&to=${new Date().toISOString()}`,
        {
          headers: await stack.authHeaders(org),
        },
      );
      readStatus = read.status;
    } finally {
      cluster('start');
      db = new pg.Client({ connectionString: DIRECT });
      await until(
        async () =>
          db.connect().then(
            () => true,
            () => false,
          ),
        30_000,
      );
    }
    expect(readStatus).toBe(503);
    await until(async () => (await committed(org)) >= accepted * 1000, 90_000);
    expect(await count(org)).toBe(accepted * 1000);
    await expectConsistent(org);
  });

  it('shares the writer consumer between two replicas without writing a point twice', async () => {
    await stack.startService('telemetry', { CONSUMER_ACK_WAIT_S: '3' }, 'telemetry#2');
    const org = `two-${randomUUID().slice(0, 8)}`;
    await ingest(org, 200);
    await until(async () => (await committed(org)) >= 200_000, 60_000);
    expect(await count(org)).toBe(200_000);
    await expectConsistent(org);
    const written = async (replica: string) => {
      const text = await (await fetch(`${stack.url(replica)}/metrics`)).text();
      return Number(/^conduit_telemetry_points_written_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    expect(await written('telemetry')).toBeGreaterThan(0);
    expect(await written('telemetry#2')).toBeGreaterThan(0);
  });
});
