import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  TelemetryIngested,
  parseTelemetryIngestSubject,
  type AlertRule,
  isCommonTelemetryIngestMessage,
} from '@conduit/contracts';
import { isDatabaseUnavailable } from '@conduit/database';
import { JetStreamConsumers, type ReceivedEvent } from '@conduit/messaging';
import { OutboxService, SERVICE_CONFIG } from '@conduit/runtime';
import { Counter, Gauge, register } from 'prom-client';
import type { z } from 'zod';
import type { EntityManager } from 'typeorm';
import { AlertsRepository } from '../alerts/alerts.repository.js';
import type { AnalyticsConfig, AnalyticsOptions } from '../config/analytics.config.js';
import { DeviceDirectoryService, needsAttributes } from '../devices/device-directory.service.js';
import {
  RuleEngineService,
  breaches,
  describeCondition,
  newRuleState,
  type EngineRule,
  type RuleAction,
  type RuleState,
} from '../rules/rule-engine.service.js';
import { RulesService } from '../rules/rules.service.js';
import { AnomalyDetectorService, newDetectorState } from './anomaly-detector.service.js';
import { SeriesRepository, type NewAnomaly, type SeriesKey, type SeriesState } from './series.repository.js';

/** One TELEMETRY message, as the analysis needs it (ts in epoch ms). */
export interface TelemetryMessage {
  readonly epoch: number;
  readonly seq: number;
  readonly orgId: string;
  readonly deviceId: string;
  /** When JetStream stored it (per-minute ingest counters). */
  readonly arrivedAt: Date;
  readonly points: readonly { readonly metric: string; readonly ts: number; readonly value: number }[];
}

export interface BatchResult {
  readonly messages: number;
  readonly duplicates: number;
  readonly points: number;
  readonly anomalies: number;
  readonly raised: number;
  readonly resolved: number;
}

/** The key of the detector's pseudo-rule in a series' rule states and in `alerts.source_key`. */
export const ANOMALY_KEY = 'anomaly';

type IngestEvent = ReceivedEvent<z.output<typeof TelemetryIngested.schema>>;

const metric = <T>(name: string, make: () => T): T =>
  (register.getSingleMetric(name) as T | undefined) ?? make();
const analysed = metric(
  'conduit_analytics_points_total',
  () =>
    new Counter({ name: 'conduit_analytics_points_total', help: 'Points scored by the anomaly detector' }),
);
const anomaliesFound = metric(
  'conduit_analytics_anomalies_total',
  () =>
    new Counter({
      name: 'conduit_analytics_anomalies_total',
      help: 'Anomalies stored',
      labelNames: ['kind'],
    }),
);
const tracked = metric(
  'conduit_analytics_series_tracked',
  () =>
    new Gauge({ name: 'conduit_analytics_series_tracked', help: 'Series held in memory by this replica' }),
);

/** A subject that names no valid org and device: dead-lettered after its deliveries, never applied. */
export class InvalidSubjectError extends Error {
  constructor(subject: string) {
    super(`subject ${subject} does not name a valid org and device`);
    this.name = 'InvalidSubjectError';
  }
}

interface Pending {
  readonly key: SeriesKey;
  readonly sourceKey: string;
  readonly rule: AlertRule | null;
  readonly action: RuleAction;
  /** The alert acted on: a raise's new id, or the one open before an escalation or resolution. */
  readonly alertId: string | null;
}

/**
 * The `analytics-anomaly` durable consumer on TELEMETRY, shared by every analytics replica. For
 * each batch, in one transaction: the messages' stream identities go into `analytics.consumed`
 * (a redelivered message is skipped whole), the touched series are locked, each point is scored
 * by the detector and evaluated by the org's rules, and anomalies, alert changes with their
 * outbox events, the series states and the ingest counters are written. The batch is acknowledged
 * after the commit. A restart therefore neither repeats nor misses anything: state and effects
 * commit together with the sequences they cover.
 *
 * States are kept in memory between batches (the `ANALYTICS_SERIES_CACHE_MAX` most recently
 * used; an evicted one is read back from its row). Each row carries a version; the lock returns the
 * state only for series whose version differs from the cached one (another replica, or a user
 * resolving an alert, wrote it), so replicas sharing the consumer stay consistent.
 */
@Injectable()
export class AnomalyConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AnomalyConsumer.name);
  private readonly cache: LRUCache<string, { version: number; state: SeriesState }>;
  private readonly options: AnalyticsOptions;
  private readonly anomalyRule: EngineRule;
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    private readonly consumers: JetStreamConsumers,
    private readonly series: SeriesRepository,
    private readonly alerts: AlertsRepository,
    private readonly rules: RulesService,
    private readonly devices: DeviceDirectoryService,
    private readonly outbox: OutboxService,
    private readonly detector: AnomalyDetectorService,
    private readonly engine: RuleEngineService,
    @Inject(SERVICE_CONFIG) config: AnalyticsConfig,
  ) {
    this.options = config.service;
    // Bounded: an evicted series has version 0 here, so the next lock reads its state back.
    this.cache = new LRUCache({ max: this.options.seriesCacheMax });
    this.anomalyRule = {
      condition: { op: 'gt', threshold: 0 },
      mode: { type: 'simple' },
      severity: this.options.anomalyAlerts.severity,
      cooldown_seconds: 0,
      escalation: [],
      auto_resolve_after: this.options.anomalyAlerts.resolveAfterPoints,
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consumers.run({
      stream: TelemetryIngested.stream,
      durable: 'analytics-anomaly',
      filterSubject: TelemetryIngested.filter,
      schema: TelemetryIngested.schema,
      matches: isCommonTelemetryIngestMessage,
      batch: {
        maxMessages: this.options.consumer.batchMessages,
        maxWaitMs: this.options.consumer.batchWaitMs,
      },
      // One batch at a time per replica: a series' points are then applied in stream order here.
      concurrency: 1,
      handle: (events) => this.handle(events).then(() => undefined),
      isTransient: isDatabaseUnavailable,
    });
    this.pruneTimer = setInterval(() => {
      this.series
        .prune(this.options.retentionDays)
        .catch((e: unknown) => this.logger.warn(`prune failed: ${String(e)}`));
    }, 3_600_000);
    this.pruneTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.pruneTimer);
  }

  /** Series this replica holds in memory. */
  get trackedSeries(): number {
    return this.cache.size;
  }

  handle(events: readonly IngestEvent[]): Promise<BatchResult> {
    const messages: TelemetryMessage[] = events.map((e) => {
      const ids = parseTelemetryIngestSubject(e.subject);
      if (!ids) throw new InvalidSubjectError(e.subject);
      return {
        epoch: e.streamEpoch,
        seq: e.streamSeq,
        ...ids,
        arrivedAt: e.publishedAt,
        points: e.data.points.map((p) => ({
          metric: p.metric,
          ts: typeof p.ts === 'number' ? p.ts : Date.parse(p.ts),
          value: p.value,
        })),
      };
    });
    return this.process(messages);
  }

  /** Applies a batch of messages in one transaction (see the class comment). */
  async process(messages: readonly TelemetryMessage[]): Promise<BatchResult> {
    // Attribute scopes need the devices' attributes: fetched before the transaction.
    const scoped = new Set<string>();
    for (const m of messages) {
      if (this.rules.forOrg(m.orgId).some((r) => needsAttributes(r.scope)))
        scoped.add(`${m.orgId}|${m.deviceId}`);
    }
    if (scoped.size > 0) {
      await this.devices.prefetch(
        [...scoped].map((k) => {
          const [orgId, deviceId] = k.split('|') as [string, string];
          return { orgId, deviceId };
        }),
      );
    }

    const outcome = await this.series.transaction(async (tx) => {
      const fresh = await this.series.claim(tx, messages);
      // delete: a message in the batch twice (redelivered while its first copy was buffered)
      // is analysed once.
      const todo = messages.filter((m) => fresh.delete(`${m.epoch}:${m.seq}`));
      if (todo.length === 0) return undefined;
      return this.apply(tx, todo);
    });
    if (!outcome)
      return { messages: 0, duplicates: messages.length, points: 0, anomalies: 0, raised: 0, resolved: 0 };

    // Committed: the new states become the cached ones.
    for (const [key, entry] of outcome.working) this.cache.set(key, entry);
    tracked.set(this.cache.size);
    analysed.inc(outcome.points);
    anomaliesFound.inc({ kind: 'spike' }, outcome.spikes);
    anomaliesFound.inc({ kind: 'drift' }, outcome.anomalies - outcome.spikes);
    if (outcome.raised + outcome.resolved > 0) this.outbox.flushSoon();
    return {
      messages: outcome.messages,
      duplicates: messages.length - outcome.messages,
      points: outcome.points,
      anomalies: outcome.anomalies,
      raised: outcome.raised,
      resolved: outcome.resolved,
    };
  }

  private async apply(tx: EntityManager, todo: readonly TelemetryMessage[]) {
    const keys = new Map<string, SeriesKey>();
    for (const m of todo) {
      for (const p of m.points) {
        const key = `${m.orgId}|${m.deviceId}|${p.metric}`;
        if (!keys.has(key)) keys.set(key, { orgId: m.orgId, deviceId: m.deviceId, metric: p.metric });
      }
    }
    const keyList = [...keys.keys()];
    const locked = await this.series.lock(
      tx,
      [...keys.values()],
      keyList.map((k) => this.cache.get(k)?.version ?? 0),
    );
    const lockedByKey = new Map(locked.map((l) => [`${l.orgId}|${l.deviceId}|${l.metric}`, l]));
    // Working copies: the cache is only replaced after the commit, so a failed batch leaves it intact.
    const working = new Map<string, { version: number; state: SeriesState }>();
    for (const key of keyList) {
      const row = lockedByKey.get(key);
      const cached = this.cache.get(key);
      if (row?.state) working.set(key, { version: row.version, state: row.state });
      else if (row && cached && row.version === cached.version)
        working.set(key, { version: row.version, state: structuredClone(cached.state) });
      else working.set(key, { version: 0, state: { d: newDetectorState(), r: {} } });
    }

    const anomalies: NewAnomaly[] = [];
    const pending: Pending[] = [];
    const lastSeen = new Map<string, Date>();
    const ingest = new Map<string, number>();
    let points = 0;
    const rulesFor = new Map<string, AlertRule[]>();

    for (const m of todo) {
      const minute = `${m.orgId}|${Math.floor(m.arrivedAt.getTime() / 60_000) * 60_000}`;
      ingest.set(minute, (ingest.get(minute) ?? 0) + m.points.length);
      points += m.points.length;
      for (const p of m.points) {
        const key = `${m.orgId}|${m.deviceId}|${p.metric}`;
        const seriesKey = keys.get(key) as SeriesKey;
        const state = (working.get(key) as { state: SeriesState }).state;
        const seen = lastSeen.get(key);
        if (!seen || seen < m.arrivedAt) lastSeen.set(key, m.arrivedAt);

        const scored = this.detector.observe(state.d, p.value);
        if (scored) {
          anomalies.push({ ...seriesKey, ts: p.ts, value: p.value, ...scored });
        }
        if (this.options.anomalyAlerts.enabled) {
          const st = (state.r[ANOMALY_KEY] ??= newRuleState());
          const before = st.open;
          const action = this.engine.evaluate(this.anomalyRule, st, p.ts, scored !== undefined, p.value);
          if (action) pending.push(this.pending(seriesKey, ANOMALY_KEY, null, action, st, before));
        }

        let rules = rulesFor.get(key);
        if (!rules) {
          rules = this.rules
            .forOrg(m.orgId)
            .filter((r) => r.metric === p.metric && this.devices.matches(r.scope, m.orgId, m.deviceId));
          rulesFor.set(key, rules);
        }
        for (const rule of rules) {
          const st = (state.r[rule.id] ??= newRuleState());
          const before = st.open;
          if (rule.condition.op === 'no_data') {
            // Data arrived: a no-data alert of this series is over.
            if (before !== null) {
              this.engine.close(st);
              pending.push(this.pending(seriesKey, rule.id, rule, { type: 'resolve', ts: p.ts }, st, before));
            }
            continue;
          }
          const action = this.engine.evaluate(rule, st, p.ts, breaches(rule.condition, p.value), p.value);
          if (action) pending.push(this.pending(seriesKey, rule.id, rule, action, st, before));
        }
      }
    }

    // Rule states of deleted or disabled rules go with the next write of their series.
    for (const { state } of working.values()) {
      for (const id of Object.keys(state.r))
        if (id !== ANOMALY_KEY && !this.rules.isLive(id)) delete state.r[id];
    }

    let raised = 0;
    let resolved = 0;
    // A raise that found an alert already open adopts it: later actions and the state follow it.
    const adopted = new Map<string, string>();
    for (const p of pending) {
      const scope = { orgId: p.key.orgId };
      const id = p.alertId === null ? null : (adopted.get(p.alertId) ?? p.alertId);
      if (id === null) continue;
      switch (p.action.type) {
        case 'raise': {
          const result = await this.alerts.raise(tx, {
            id,
            orgId: p.key.orgId,
            source: p.rule ? 'rule' : 'anomaly',
            sourceKey: p.sourceKey,
            ruleId: p.rule?.id ?? null,
            deviceId: p.key.deviceId,
            metric: p.key.metric,
            severity: p.action.severity,
            message: p.rule
              ? `${p.rule.name}: ${p.key.metric} ${describeCondition(p.rule.condition)} (value ${p.action.value})`
              : `anomalous ${p.key.metric} (value ${p.action.value})`,
            value: p.action.value,
            triggeredAt: p.action.ts,
          });
          if (result.id !== id) adopted.set(id, result.id);
          if (result.created) raised++;
          break;
        }
        case 'escalate':
          await this.alerts.escalate(tx, scope, id, p.action.severity);
          break;
        case 'resolve':
          if (await this.alerts.resolveIn(tx, scope, id, 'auto')) resolved++;
          break;
      }
    }
    if (adopted.size > 0) {
      for (const { state } of working.values()) {
        for (const st of Object.values(state.r))
          if (st.open !== null) st.open = adopted.get(st.open) ?? st.open;
      }
    }

    await this.series.addAnomalies(tx, anomalies);
    const versions = await this.series.save(
      tx,
      keyList.map((key) => ({
        key: keys.get(key) as SeriesKey,
        state: (working.get(key) as { state: SeriesState }).state,
        lastSeen: lastSeen.get(key) as Date,
      })),
    );
    await this.series.countIngest(tx, ingest);
    for (const [key, entry] of working) entry.version = versions.get(key) ?? entry.version;
    const spikes = anomalies.filter((a) => a.kind === 'spike').length;
    return {
      spikes,
      working,
      messages: todo.length,
      points,
      anomalies: anomalies.length,
      raised,
      resolved,
    };
  }

  private pending(
    key: SeriesKey,
    sourceKey: string,
    rule: AlertRule | null,
    action: RuleAction,
    state: RuleState,
    before: string | null,
  ): Pending {
    if (action.type !== 'raise') return { key, sourceKey, rule, action, alertId: before };
    // The id is chosen now so that the state can point at the alert before it is inserted.
    state.open = randomUUID();
    return { key, sourceKey, rule, action, alertId: state.open };
  }
}
