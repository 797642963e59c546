import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  TelemetryIngested,
  parseTelemetryIngestSubject,
  isCommonTelemetryIngestMessage,
} from '@conduit/contracts';
import { isDatabaseUnavailable } from '@conduit/database';
import { JetStreamConsumers, type ReceivedEvent } from '@conduit/messaging';
import type { z } from 'zod';
import { Counter, register } from 'prom-client';
import { PointsRepository, type PointBatch } from './points.repository.js';

/** Writer batching from config. */
export const WRITER_OPTIONS = Symbol('WRITER_OPTIONS');
export interface WriterOptions {
  /** Messages per transaction (each carries up to ~1 000 points). */
  readonly batchMessages: number;
  /** Longest a message waits for its batch to fill, in milliseconds. */
  readonly batchWaitMs: number;
  /** Write transactions this process runs at once (Postgres scales to about two on 2 cores). */
  readonly concurrency: number;
}

type IngestEvent = ReceivedEvent<z.output<typeof TelemetryIngested.schema>>;

const written =
  (register.getSingleMetric('conduit_telemetry_points_written_total') as Counter | undefined) ??
  new Counter({
    name: 'conduit_telemetry_points_written_total',
    help: 'Points committed to telemetry.points',
  });

/** A message on a subject whose org or device is not a valid id: dead-lettered, never retried. */
export class InvalidSubjectError extends Error {
  constructor(subject: string) {
    super(`subject ${subject} does not name a valid org and device`);
    this.name = 'InvalidSubjectError';
  }
}

/** Parses `telemetry.ingest.<org>.<device>`. */
export const parseIngestSubject = parseTelemetryIngestSubject;

/**
 * The `telemetry-writer` durable consumer on TELEMETRY, shared by every telemetry replica:
 * batches messages, writes each batch in one transaction, acknowledges after the commit.
 * A message failing its schema goes to the DLQ at once (the runner); a Postgres failure naks the
 * batch for redelivery with backoff, which the consumed-sequence ledger makes harmless.
 */
@Injectable()
export class PointsConsumer implements OnApplicationBootstrap {
  private readonly logger = new Logger(PointsConsumer.name);

  constructor(
    private readonly consumers: JetStreamConsumers,
    private readonly points: PointsRepository,
    @Inject(WRITER_OPTIONS) private readonly options: WriterOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.consumers.run({
      stream: TelemetryIngested.stream,
      durable: 'telemetry-writer',
      filterSubject: TelemetryIngested.filter,
      schema: TelemetryIngested.schema,
      matches: isCommonTelemetryIngestMessage,
      batch: { maxMessages: this.options.batchMessages, maxWaitMs: this.options.batchWaitMs },
      concurrency: this.options.concurrency,
      handle: (events) => this.write(events),
      // Postgres down: hold the batch and retry, never burn deliveries or dead-letter good data.
      isTransient: isDatabaseUnavailable,
    });
  }

  async write(events: readonly IngestEvent[]): Promise<void> {
    const batches: PointBatch[] = [];
    for (const e of events) {
      const ids = parseIngestSubject(e.subject);
      if (!ids) throw new InvalidSubjectError(e.subject);
      batches.push({
        epoch: e.streamEpoch,
        seq: e.streamSeq,
        ...ids,
        points: e.data.points,
      });
    }
    const result = await this.points.write(batches);
    written.inc(result.points);
    if (result.duplicates > 0) this.logger.log(`skipped ${result.duplicates} redelivered message(s)`);
  }
}
