import { randomUUID } from 'node:crypto';
import { LlmRunCompleted, STREAMS } from '@conduit/contracts';
import { createDataSource, runMigrations } from '@conduit/database';
import type { Messaging } from '@conduit/messaging';
import { connectTestMessaging, uniqueName } from '@conduit/messaging/testing';
import { OutboxRepository, OutboxService } from '@conduit/runtime';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLlmExperimentsConfig } from '../config/llm-experiments.config.js';
import { EXPERIMENTS_SCHEMA, llmExperimentsMigrations } from '../migrations/index.js';
import { ExperimentsRepository, type LlmRunCompletedPayload, type RunRow } from './experiments.repository.js';
import { RunRecorder } from './run-recorder.js';
import { RunsConsumer } from './runs.consumer.js';

const PGBOUNCER = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:6432/conduit_test';
const DIRECT = process.env['MIGRATION_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/conduit_test';

/**
 * Runs recorded as events and stored by the runs consumer: real JetStream (the LLM stream),
 * PgBouncer and Postgres. The consumer is this file's own (a durable filtered on this file's org),
 * so a running dev stack's consumer takes none of its events.
 */
describe(RunsConsumer.name, () => {
  const orgId = `runs-${randomUUID().slice(0, 8)}`;
  const scope = { orgId };
  const experimentId = randomUUID();
  const base = loadLlmExperimentsConfig({ CONDUIT_PRESET: 'test', LLM_RUNS_BATCH_WAIT_MS: '5' });
  const config = {
    ...base,
    service: {
      ...base.service,
      runs: {
        ...base.service.runs,
        durable: uniqueName('llm-runs-spec'),
        filterSubject: LlmRunCompleted.subject(orgId),
      },
    },
  };
  let dataSource: DataSource;
  let messaging: Messaging;
  let closed: Messaging;
  let repository: ExperimentsRepository;
  let consumer: RunsConsumer;
  let outbox: OutboxService;

  const row = (over: Partial<RunRow> = {}): RunRow => ({
    id: randomUUID(),
    experiment_id: experimentId,
    unit_id: `u-${randomUUID().slice(0, 6)}`,
    variant: 'a',
    served_by: 'a',
    provider_id: 'p1',
    model: 'm',
    source: 'provider',
    fallback: false,
    output: `answer ${randomUUID()}`,
    latency_ms: 51.5,
    input_tokens: 10,
    output_tokens: 4,
    cost: 0.002,
    error: null,
    created_at: new Date(),
    ...over,
  });
  const eventOf = (r: RunRow): LlmRunCompletedPayload =>
    LlmRunCompleted.schema.parse({
      version: 1,
      org_id: orgId,
      run_id: r.id,
      experiment_id: r.experiment_id,
      unit_id: r.unit_id,
      variant: r.variant,
      served_by: r.served_by,
      provider_id: r.provider_id,
      model: r.model,
      source: r.source,
      cache_hit: false,
      fallback: r.fallback,
      latency_ms: r.latency_ms,
      input_tokens: r.input_tokens,
      output_tokens: r.output_tokens,
      cost: r.cost,
      error: r.error,
      output: r.output,
      occurred_at: r.created_at.toISOString(),
    });
  const stored = async (ids: readonly string[]) =>
    (await dataSource.query(
      `SELECT id, output, latency_ms, cost, created_at FROM experiments.runs WHERE org_id = $1 AND id = ANY($2::uuid[])`,
      [orgId, ids],
    )) as { id: string; output: string | null; latency_ms: number; cost: number; created_at: Date }[];
  const outboxRows = async (runId: string) =>
    (
      (await dataSource.query(`SELECT count(*)::int AS n FROM experiments.outbox WHERE msg_id = $1`, [
        `llm.run.completed:${runId}`,
      ])) as { n: number }[]
    )[0]?.n;

  beforeAll(async () => {
    await runMigrations({ url: DIRECT, schema: EXPERIMENTS_SCHEMA, migrations: llmExperimentsMigrations });
    dataSource = createDataSource({
      url: PGBOUNCER,
      schema: EXPERIMENTS_SCHEMA,
      poolMax: 4,
      applicationName: 'runs-int-spec',
    });
    await dataSource.initialize();
    messaging = await connectTestMessaging();
    // The LLM stream as the services provision it; created with test limits on a bare server.
    if (!(await messaging.jsm.streams.info(STREAMS.LLM.name).catch(() => undefined))) {
      await (await connectTestMessaging({}, [STREAMS.LLM])).close();
    }
    closed = await connectTestMessaging();
    await closed.close();
    repository = new ExperimentsRepository(dataSource);
    await repository.create(scope, {
      id: experimentId,
      name: 'runs spec',
      status: 'running',
      seed: 's',
      variants: [
        { key: 'a', provider_id: 'p1', prompt: 'x', params: {}, weight: 1 },
        { key: 'b', provider_id: 'p1', prompt: 'y', params: {}, weight: 1 },
      ],
      control: 'a',
      fallback_variant: null,
      primary_metric: { name: 'score', kind: 'mean', direction: 'increase' },
      guardrail_metrics: [],
      guardrails: {},
      min_samples: 10,
    });
    outbox = new OutboxService(new OutboxRepository(dataSource, EXPERIMENTS_SCHEMA), messaging.publisher);
    consumer = new RunsConsumer(messaging.consumers, repository, config);
    await consumer.onApplicationBootstrap();
  });

  afterAll(async () => {
    await messaging?.consumers.stopAll();
    await messaging?.jsm.consumers
      .delete(STREAMS.LLM.name, config.service.runs.durable)
      .catch(() => undefined);
    await dataSource?.query(`DELETE FROM experiments.experiments WHERE org_id = $1`, [orgId]);
    await dataSource?.query(`DELETE FROM experiments.outbox WHERE payload->>'org_id' = $1`, [orgId]);
    await dataSource?.destroy();
    await messaging?.close();
  });

  it('answers a run once its event is in the stream; the consumer stores the row, and results read it at once', async () => {
    const recorder = new RunRecorder(messaging.publisher, repository, outbox);
    const probe = row();
    const runs = [probe, ...Array.from({ length: 39 }, () => row())];
    const where = await Promise.all(runs.map((r) => recorder.record(scope, r, eventOf(r))));
    expect(new Set(where)).toEqual(new Set(['stream']));
    // No insert on the way: nothing in the outbox.
    expect(await outboxRows(probe.id)).toBe(0);

    await consumer.settled(orgId);
    const rows = await stored(runs.map((r) => r.id));
    expect(rows).toHaveLength(40);
    const first = rows.find((r) => r.id === probe.id);
    expect(first?.output).toBe(probe.output);
    expect(Number(first?.latency_ms)).toBe(51.5);
    expect(first && new Date(first.created_at).toISOString()).toBe(probe.created_at.toISOString());
  });

  it('stores a run in Postgres with its event in the outbox when JetStream cannot take it; the copy that reaches the stream is a no-op', async () => {
    const r = row({ source: 'cache', cost: 0 });
    const recorder = new RunRecorder(closed.publisher, repository, outbox);
    expect(await recorder.record(scope, r, eventOf(r))).toBe('postgres');
    // Durable before the answer: the row is there without the consumer.
    expect(await stored([r.id])).toHaveLength(1);

    // The outbox relays the event (from memory: the table had no backlog); the consumer skips it.
    await outbox.flush();
    const last = await messaging.jsm.streams.getMessage(STREAMS.LLM.name, {
      last_by_subj: LlmRunCompleted.subject(orgId),
    });
    expect((last?.json() as { run_id: string }).run_id).toBe(r.id);
    await consumer.settled(orgId);
    expect(await stored([r.id])).toHaveLength(1);
    expect(await outboxRows(r.id)).toBe(0);
  });

  it('makes a redelivered or republished run a no-op, and skips the runs of a deleted experiment without stopping', async () => {
    const again = row();
    const orphan = row({ experiment_id: randomUUID() });
    const after = row();
    const subject = LlmRunCompleted.subject(orgId);
    // Outside the duplicate window (other msg ids): the row's id drops the copy.
    await messaging.publisher.publishRaw(subject, eventOf(again), { msgId: `${again.id}-1` });
    await messaging.publisher.publishRaw(subject, eventOf(again), { msgId: `${again.id}-2` });
    await messaging.publisher.publishRaw(subject, eventOf(orphan), { msgId: orphan.id });
    await messaging.publisher.publishRaw(subject, eventOf(after), { msgId: after.id });
    await consumer.settled(orgId);
    expect((await stored([again.id, orphan.id, after.id])).map((r) => r.id).sort()).toEqual(
      [again.id, after.id].sort(),
    );
    const info = await messaging.jsm.consumers.info(STREAMS.LLM.name, config.service.runs.durable);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });
});
