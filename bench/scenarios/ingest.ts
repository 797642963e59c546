import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { sampleRss, servicePid } from '../src/process-memory.js';
import { atLeast, below } from '../src/report.js';
import { round2 } from '../src/stats.js';
import { orgAuthHeaders } from '../src/auth.js';
import { reading } from '../src/readings.js';
import type { Scenario } from './scenario.js';

const DB = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/conduit';
const WRITER = 'telemetry-writer';

/**
 * 2 000 000 points through `POST /api/v1/telemetry/batch` (1 000-point requests, several in
 * flight): the gateway's accept rate (202 = durable in JetStream) and the end-to-end rate until
 * every point is in Postgres — the writer's consumer has acknowledged (after commit) every message
 * the stream held once the last request was accepted, then one count checks the rows; then the
 * same rows written by COPY from one process as the physical baseline, and the telemetry
 * process's peak RSS. (Polling `count(*)` every 100 ms instead cost Postgres 16 s of the run's
 * CPU — 55 scans of a growing org, as much as the writer's own statements.)
 */
export const ingest: Scenario = {
  name: 'ingest',
  description: '2 000 000 points via HTTP batches: accept and end-to-end points/s vs a COPY baseline',
  options: {
    points: 'points in all (2000000)',
    batch: 'points per request (1000)',
    concurrency: 'requests in flight (16)',
    devices: 'distinct devices (1000)',
  },
  async run(ctx) {
    const total = ctx.flag('points', 2_000_000);
    const perRequest = ctx.flag('batch', 1_000);
    const inFlight = ctx.flag('concurrency', 16);
    const devices = ctx.flag('devices', 1_000);
    const requests = Math.ceil(total / perRequest);
    const org = `bench-ingest-${randomUUID().slice(0, 8)}`;
    const headers = {
      ...(await orgAuthHeaders(ctx.gatewayUrl, ctx.headers, org)),
      'content-type': 'application/json',
    };
    const start = Date.now() - 3_600_000;
    // Built as a string: the load generator shares the two cores with the stack, and building
    // 1 000 objects for JSON.stringify per request cost it about twice as much.
    const body = (r: number) => {
      const device = r % devices;
      const first = Math.floor(r / devices) * perRequest;
      let json = '{"points":[';
      for (let i = 0; i < perRequest; i++) {
        json += `${i === 0 ? '' : ','}{"device_id":"d${device}","metric":"temp","ts":${start + first + i},"value":${reading(device, first + i)}}`;
      }
      return `${json}]}`;
    };

    const db = new pg.Client({ connectionString: DB });
    await db.connect();
    const nats = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
    const jsm = await jetstreamManager(nats);
    const count = async (orgId: string) =>
      Number(
        (await db.query('SELECT count(*) AS n FROM telemetry.points WHERE org_id = $1', [orgId])).rows[0].n,
      );
    try {
      const rss = sampleRss(servicePid('telemetry'));
      const t0 = performance.now();
      let next = 0;
      let failed = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < requests) {
            const r = next++;
            const res = await fetch(`${ctx.gatewayUrl}/api/v1/telemetry/batch`, {
              method: 'POST',
              headers,
              body: body(r),
            });
            if (res.status !== 202) failed++;
            await res.arrayBuffer();
          }
        }),
      );
      const acceptedS = (performance.now() - t0) / 1000;
      if (failed > 0) throw new Error(`${failed} of ${requests} requests were not accepted`);
      const expected = requests * perRequest;
      // Every message of this run is in the stream by now (a 202 follows JetStream's ack).
      const last = (await jsm.streams.info('TELEMETRY')).state.last_seq;
      const deadline = Date.now() + 300_000;
      while (
        (await jsm.consumers.info('TELEMETRY', WRITER)).ack_floor.stream_seq < last &&
        Date.now() < deadline
      )
        await new Promise((r) => setTimeout(r, 20));
      const endToEndS = (performance.now() - t0) / 1000;
      const peakRss = rss.stop();
      let stored = await count(org);
      // Only if the acknowledgements ran ahead of the rows (they must not): wait for the count.
      while (stored < expected && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        stored = await count(org);
      }
      if (stored !== expected) throw new Error(`stored ${stored} of ${expected} points`);

      // Baseline: the same rows straight into Postgres with COPY, from one process.
      const baselineOrg = `${org}-copy`;
      const c0 = performance.now();
      const rows = async function* () {
        for (let r = 0; r < requests; r++) {
          const lines: string[] = [];
          for (let i = 0; i < perRequest; i++) {
            const ts = new Date(start + Math.floor(r / devices) * perRequest + i).toISOString();
            const value = reading(r % devices, Math.floor(r / devices) * perRequest + i);
            lines.push(`${baselineOrg}\td${r % devices}\ttemp\t${ts}\t${value}\n`);
          }
          yield lines.join('');
        }
      };
      await pipeline(
        Readable.from(rows()),
        db.query(copyFrom('COPY telemetry.points (org_id, device_id, metric, ts, value) FROM STDIN')),
      );
      const copyS = (performance.now() - c0) / 1000;
      // Leave the database as it was: millions of leftover rows would slow every later run.
      for (const orgId of [org, baselineOrg]) {
        for (const table of ['points', 'points_5m', 'points_hourly', 'latest']) {
          await db.query(`DELETE FROM telemetry.${table} WHERE org_id = $1`, [orgId]);
        }
      }

      const metrics = {
        points: expected,
        accept_points_per_s: round2(expected / acceptedS),
        end_to_end_points_per_s: round2(expected / endToEndS),
        baseline_copy_points_per_s: round2(expected / copyS),
        ratio: round2(expected / endToEndS / (expected / copyS)),
        writer_peak_rss_mib: round2(peakRss ?? Number.NaN),
      };
      return {
        params: { points: expected, points_per_request: perRequest, concurrency: inFlight, devices, org },
        metrics,
        goals: {
          end_to_end_points_per_s: atLeast(metrics.end_to_end_points_per_s, 150_000),
          writer_peak_rss_mib: below(metrics.writer_peak_rss_mib, 256),
        },
      };
    } finally {
      await db.end();
      await nats.close();
    }
  },
};
