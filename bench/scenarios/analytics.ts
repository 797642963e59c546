import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { orgAuthHeaders } from '../src/auth.js';
import { reading } from '../src/readings.js';
import { rssMiB, sampleRss, servicePid } from '../src/process-memory.js';
import { atLeast, below } from '../src/report.js';
import { round2 } from '../src/stats.js';
import type { Scenario } from './scenario.js';

const CONSUMER = 'analytics-anomaly';
/** The telemetry ingest goal analytics must keep up with, in points/s. */
const GOAL = 150_000;
/**
 * Default publish pace: 10 % above {@link GOAL}. The measured rate (points over first publish →
 * lag 0) can never exceed the pace, so paced at the goal itself it read 149 400–149 900 even when
 * analytics had capacity to spare (170 000 flat out): the goal could not be met by construction.
 */
const DEFAULT_RATE = Math.round(GOAL * 1.1);

/**
 * 2 000 000 points published straight onto `telemetry.ingest.<org>.<device>` (the public ingest
 * contract; messages of `--batch` points, `--inflight` publishes pipelined), while the analytics
 * service's `analytics-anomaly` consumer scores every point and evaluates the org's rules (one
 * threshold rule is created for the org first, through the gateway), paced at `--rate` points/s
 * (default 165 000: 10 % above the 150 000 points/s ingest goal, see {@link DEFAULT_RATE}; 0 = flat
 * out). Measured: the publish rate, the rate at
 * which analytics finished (first publish → consumer lag 0), how long the lag took to reach 0 after
 * the last publish, and the analytics process's RSS (peak, and growth over the run).
 * The telemetry writer consumes the same messages on the same machine meanwhile, as in production.
 */
export const analytics: Scenario = {
  name: 'analytics',
  description:
    '2 000 000 points from TELEMETRY through the anomaly detector and rules: points/s, lag drain, memory',
  options: {
    points: 'points in all (2000000)',
    batch: 'points per message (200)',
    devices: 'distinct devices = series, one metric each (10000)',
    inflight: 'publishes in flight (256)',
    rate: 'publish pace in points/s, 0 = as fast as possible (165000: the 150000 ingest goal + 10 %)',
  },
  async run(ctx) {
    const total = ctx.flag('points', 2_000_000);
    const perMessage = ctx.flag('batch', 200);
    const devices = ctx.flag('devices', 10_000);
    const inflight = ctx.flag('inflight', 256);
    const rate = ctx.flags['rate'] === '0' ? 0 : ctx.flag('rate', DEFAULT_RATE);
    const messages = Math.ceil(total / perMessage);
    const org = `bench-anl-${randomUUID().slice(0, 8)}`;
    const headers = {
      ...(await orgAuthHeaders(ctx.gatewayUrl, ctx.headers, org)),
      'content-type': 'application/json',
    };
    const ruleRes = await fetch(`${ctx.gatewayUrl}/api/v1/alert-rules`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: 'bench hot',
        metric: 'temp',
        condition: { op: 'gt', threshold: 95 },
        mode: { type: 'repeating', count: 3, window_seconds: 60 },
        cooldown_seconds: 60,
      }),
    });
    if (ruleRes.status !== 201)
      throw new Error(`creating the rule answered ${ruleRes.status}: ${await ruleRes.text()}`);

    const nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
    try {
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      const lag = async () => {
        const info = await jsm.consumers.info('TELEMETRY', CONSUMER);
        return info.num_pending + info.num_ack_pending;
      };
      // Wait for an idle consumer so that earlier backlog is not counted.
      const idleBy = Date.now() + 60_000;
      while ((await lag()) > 0 && Date.now() < idleBy) await new Promise((r) => setTimeout(r, 200));

      const pid = servicePid('analytics');
      const rssBefore = pid === undefined ? undefined : rssMiB(pid);
      const rss = sampleRss(pid);
      const start = Date.now() - 3_600_000;
      const encoder = new TextEncoder();
      const body = (m: number) => {
        const device = m % devices;
        const round = Math.floor(m / devices);
        return encoder.encode(
          JSON.stringify({
            version: 1,
            points: Array.from({ length: perMessage }, (_, i) => {
              const n = round * perMessage + i;
              // Noise around 50 (±10); every tenth series has a burst of 3 points at 150 every 97
              // points: anomalies for the detector and, with 3 in 60 s, an alert of the rule.
              const burst = device % 10 === 0 && n % 97 >= 50 && n % 97 < 53;
              const value = burst ? 150 : reading(device, n);
              return { metric: 'temp', ts: start + n * 1000, value };
            }),
          }),
        );
      };

      const t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: inflight }, async () => {
          while (next < messages) {
            const m = next++;
            // Paced: message m leaves no earlier than its slot at `rate` points/s.
            const due = rate > 0 ? (m * perMessage * 1000) / rate - (performance.now() - t0) : 0;
            if (due > 1) await new Promise((r) => setTimeout(r, due));
            await js.publish(`telemetry.ingest.${org}.d${m % devices}`, body(m), { msgID: `${org}:${m}` });
          }
        }),
      );
      const publishedS = (performance.now() - t0) / 1000;
      const tPublished = performance.now();
      const deadline = Date.now() + 300_000;
      while ((await lag()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const doneS = (performance.now() - t0) / 1000;
      const drainS = (performance.now() - tPublished) / 1000;
      if ((await lag()) > 0) throw new Error(`${CONSUMER} still had lag after 300 s`);
      const peak = rss.stop();
      const rssAfter = pid === undefined ? undefined : rssMiB(pid);
      const points = messages * perMessage;
      const series = Math.min(devices, messages);

      const metrics = {
        points,
        publish_points_per_s: round2(points / publishedS),
        analytics_points_per_s: round2(points / doneS),
        lag_drain_after_publish_s: round2(drainS),
        analytics_peak_rss_mib: round2(peak ?? Number.NaN),
        // RSS includes in-flight messages and heap not yet returned: an upper bound of the state's cost.
        analytics_rss_growth_mib: round2(
          rssBefore !== undefined && rssAfter !== undefined ? rssAfter - rssBefore : Number.NaN,
        ),
      };
      return {
        params: {
          points,
          points_per_message: perMessage,
          devices,
          inflight,
          rate_points_per_s: rate,
          org,
          series,
        },
        metrics,
        goals: {
          analytics_points_per_s: atLeast(metrics.analytics_points_per_s, GOAL),
          lag_drain_after_publish_s: below(metrics.lag_drain_after_publish_s, 5),
        },
      };
    } finally {
      await nc.close();
    }
  },
};
