import { DLQ_HEADERS, STREAMS, type StreamDefinition, type StreamName } from '@conduit/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConsumerRunner, type ReceivedEvent } from './consumer-runner.js';
import type { Messaging } from './messaging.js';
import { provisionStreams } from './stream-provisioner.js';
import { connectTestMessaging, uniqueName } from './testing/index.js';

const schema = z.object({ n: z.number().int() });
type Event = ReceivedEvent<z.infer<typeof schema>>;

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe(ConsumerRunner.name, () => {
  let m: Messaging;
  let other: Messaging;
  const prefix = uniqueName('t');
  const stream: StreamDefinition = {
    name: uniqueName('S').toUpperCase() as StreamName,
    subjects: [`${prefix}.>`],
    description: 'consumer-runner int-spec',
  };
  const limits = { maxAgeHours: 1, maxBytesMb: 64, duplicateWindowS: 60 };

  beforeAll(async () => {
    m = await connectTestMessaging({}, [stream]);
    other = await connectTestMessaging();
    // The shared DLQ stream (dlq.>) must exist; create it only when missing so a dev stack's stays as it is.
    if (!(await m.jsm.streams.info('DLQ').catch(() => undefined)))
      await provisionStreams(m.jsm, limits, [STREAMS.DLQ]);
  });

  afterAll(async () => {
    await m.jsm.streams.delete(stream.name).catch(() => undefined);
    await m?.close();
    await other?.close();
  });

  const publish = (sub: string, body: unknown, msgId?: string) =>
    m.publisher.publishRaw(`${prefix}.${sub}`, body, msgId ? { msgId } : {});

  it('stores a message once per Nats-Msg-Id', async () => {
    const first = await publish('dedupe', { n: 1 }, `${prefix}-one`);
    const second = await publish('dedupe', { n: 1 }, `${prefix}-one`);
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
  });

  it('flushes full batches at once and a partial batch when its oldest message is maxWaitMs old', async () => {
    const sizes: number[] = [];
    const sut = await m.consumers.run({
      stream: stream.name,
      durable: uniqueName('batch'),
      filterSubject: `${prefix}.batch`,
      schema,
      batch: { maxMessages: 10, maxWaitMs: 300 },
      handle: async (events) => {
        sizes.push(events.length);
      },
    });
    for (let n = 0; n < 25; n++) await publish('batch', { n });
    await until(() => sizes.reduce((a, b) => a + b, 0) === 25);
    expect(sizes.filter((s) => s === 10).length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    await until(async () => (await sut.lag()).ackPending === 0);
    expect(await sut.lag()).toEqual({ pending: 0, ackPending: 0 });
    await sut.stop();
  });

  it('dead-letters a schema-invalid message with its reason and goes on with the rest', async () => {
    const durable = uniqueName('invalid');
    const seen: number[] = [];
    const sut = await m.consumers.run({
      stream: stream.name,
      durable,
      filterSubject: `${prefix}.invalid`,
      schema,
      batch: { maxMessages: 5, maxWaitMs: 50 },
      handle: async (events) => {
        seen.push(...events.map((e) => e.data.n));
      },
    });
    await publish('invalid', { n: 1 });
    const bad = await publish('invalid', { n: 'not a number' });
    await publish('invalid', { n: 3 });
    await until(() => seen.length === 2);
    const dead = await (async () => {
      for (let i = 0; i < 100; i++) {
        const msg = await m.jsm.streams
          .getMessage('DLQ', { last_by_subj: `dlq.${stream.name}.${durable}` })
          .catch(() => null);
        if (msg) return msg;
        await new Promise((r) => setTimeout(r, 50));
      }
      return null;
    })();
    expect(seen.sort()).toEqual([1, 3]);
    expect(dead?.header.get(DLQ_HEADERS.reason)).toMatch(/^schema: n: /);
    expect(dead?.header.get(DLQ_HEADERS.subject)).toBe(`${prefix}.invalid`);
    expect(dead?.header.get(DLQ_HEADERS.streamSeq)).toBe(String(bad.seq));
    expect(dead?.json<{ n: string }>().n).toBe('not a number');
    await sut.stop();
  });

  it('isolates a poison message: its batch-mates are acked, it is dead-lettered after max_deliver', async () => {
    const durable = uniqueName('poison');
    const done = new Map<number, number>();
    const attempts = new Map<number, number>();
    const sut = await m.consumers.run({
      stream: stream.name,
      durable,
      filterSubject: `${prefix}.poison`,
      schema,
      batch: { maxMessages: 5, maxWaitMs: 100 },
      maxDeliver: 3,
      backoffMs: [50, 50],
      handle: async (events: Event[]) => {
        for (const e of events) attempts.set(e.data.n, (attempts.get(e.data.n) ?? 0) + 1);
        if (events.some((e) => e.data.n === 13)) throw new Error('13 is unlucky');
        for (const e of events) done.set(e.data.n, (done.get(e.data.n) ?? 0) + 1);
      },
    });
    for (const n of [11, 12, 13, 14, 15]) await publish('poison', { n });
    await until(async () => {
      const dead = await m.jsm.streams
        .getMessage('DLQ', { last_by_subj: `dlq.${stream.name}.${durable}` })
        .catch(() => null);
      return dead !== null;
    });
    const dead = await m.jsm.streams.getMessage('DLQ', { last_by_subj: `dlq.${stream.name}.${durable}` });
    expect([...done.keys()].sort()).toEqual([11, 12, 14, 15]);
    expect([...done.values()].every((count) => count === 1)).toBe(true);
    expect(attempts.get(13)).toBeGreaterThanOrEqual(3);
    expect(dead?.header.get(DLQ_HEADERS.reason)).toContain('13 is unlucky');
    expect(dead?.header.get(DLQ_HEADERS.deliveries)).toBe('3');
    await sut.stop();
  });

  it('holds a batch through a dependency outage without burning deliveries or dead-lettering it', async () => {
    const durable = uniqueName('outage');
    let failures = 4; // more than max_deliver allows: the messages would be dead-lettered if each failure counted
    const handled: Event[] = [];
    const sut = await m.consumers.run({
      stream: stream.name,
      durable,
      filterSubject: `${prefix}.outage`,
      schema,
      batch: { maxMessages: 10, maxWaitMs: 20 },
      maxDeliver: 2,
      backoffMs: [50],
      isTransient: (error) => error instanceof Error && error.message === 'database down',
      handle: async (events: Event[]) => {
        if (failures-- > 0) throw new Error('database down');
        handled.push(...events);
      },
    });
    for (const n of [1, 2, 3]) await publish('outage', { n });
    await until(() => handled.length === 3, 20_000);
    expect(handled.map((e) => e.data.n).sort()).toEqual([1, 2, 3]);
    expect(handled.every((e) => e.deliveryCount === 1)).toBe(true);
    const dead = await m.jsm.streams
      .getMessage('DLQ', { last_by_subj: `dlq.${stream.name}.${durable}` })
      .catch(() => null);
    expect(dead).toBeNull();
    await sut.stop();
  });

  it('keeps buffered messages from redelivery while every batch slot is busy', async () => {
    const handled: Event[] = [];
    const sut = await m.consumers.run({
      stream: stream.name,
      durable: uniqueName('slow'),
      filterSubject: `${prefix}.slow`,
      schema,
      // One slot, 2.5 s a batch: the third batch waits ≈ 5 s in the buffer, past the 2 s ack wait.
      batch: { maxMessages: 2, maxWaitMs: 10 },
      concurrency: 1,
      ackWaitS: 2,
      handle: async (events: Event[]) => {
        handled.push(...events);
        await new Promise((r) => setTimeout(r, 2_500));
      },
    });
    for (let n = 0; n < 6; n++) await publish('slow', { n });
    await until(async () => handled.length >= 6 && (await sut.lag()).ackPending === 0, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(handled.map((e) => e.data.n).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(handled.every((e) => e.deliveryCount === 1)).toBe(true);
    await sut.stop();
  }, 30_000);

  it('shares one durable between two processes without handling a message twice', async () => {
    const durable = uniqueName('shared');
    const handled: { by: string; n: number }[] = [];
    const spec = (by: string) => ({
      stream: stream.name,
      durable,
      filterSubject: `${prefix}.shared`,
      schema,
      batch: { maxMessages: 20, maxWaitMs: 20 },
      handle: async (events: Event[]) => {
        await new Promise((r) => setTimeout(r, 5));
        handled.push(...events.map((e) => ({ by, n: e.data.n })));
      },
    });
    const first = await m.consumers.run(spec('first'));
    const second = await other.consumers.run(spec('second'));
    for (let n = 0; n < 400; n++) await publish('shared', { n });
    await until(() => handled.length >= 400);
    await new Promise((r) => setTimeout(r, 200));
    expect(handled).toHaveLength(400);
    expect(new Set(handled.map((h) => h.n)).size).toBe(400);
    expect(new Set(handled.map((h) => h.by))).toEqual(new Set(['first', 'second']));
    await Promise.all([first.stop(), second.stop()]);
  });

  it('stop() finishes and acknowledges the batch in hand', async () => {
    const durable = uniqueName('stop');
    let started = 0;
    let finished = 0;
    const sut = await m.consumers.run({
      stream: stream.name,
      durable,
      filterSubject: `${prefix}.stop`,
      schema,
      batch: { maxMessages: 50, maxWaitMs: 10 },
      handle: async (events) => {
        started += events.length;
        await new Promise((r) => setTimeout(r, 300));
        finished += events.length;
      },
    });
    for (let n = 0; n < 5; n++) await publish('stop', { n });
    await until(() => started > 0);
    await sut.stop();
    expect(finished).toBe(started);
    const info = await m.jsm.consumers.info(stream.name, durable);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending + finished).toBe(5);
  });
  it('hands over what `matches` takes as parsed, and leaves the rest to the schema (stripped, or dead-lettered)', async () => {
    const seen: unknown[] = [];
    const sut = await m.consumers.run({
      stream: stream.name,
      durable: uniqueName('matches'),
      filterSubject: `${prefix}.matches`,
      schema,
      matches: (payload) => (payload as { fast?: unknown }).fast === true,
      batch: { maxMessages: 10, maxWaitMs: 20 },
      handle: async (events) => {
        seen.push(...events.map((e) => e.data));
      },
    });
    await publish('matches', { n: 1, fast: true });
    await publish('matches', { n: 2, fast: false });
    await publish('matches', { n: 'not a number', fast: false });
    await publish('matches', { n: 4, fast: false });
    await until(() => seen.length === 3);
    // The schema strips unknown keys: `fast` survives only where the schema was skipped.
    expect(seen).toEqual([{ n: 1, fast: true }, { n: 2 }, { n: 4 }]);
    await sut.stop();
  });

  it('settled() waits until the consumer has acknowledged every message stored on a subject so far', async () => {
    let handled = 0;
    const sut = await m.consumers.run({
      stream: stream.name,
      durable: uniqueName('settled'),
      filterSubject: `${prefix}.settled.*`,
      schema,
      batch: { maxMessages: 10, maxWaitMs: 10 },
      handle: async (events) => {
        await new Promise((r) => setTimeout(r, 300));
        handled += events.length;
      },
    });
    expect(await sut.settled(`${prefix}.settled.none`, 100)).toBe(true);
    for (let n = 0; n < 3; n++) await publish('settled.a', { n });
    expect(await sut.settled(`${prefix}.settled.a`, 50)).toBe(false);
    expect(await sut.settled(`${prefix}.settled.a`, 5_000)).toBe(true);
    expect(handled).toBe(3);
    await sut.stop();
  });
});
