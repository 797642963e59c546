import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { LlmRunCompleted } from '@conduit/contracts';
import { isDatabaseUnavailable } from '@conduit/database';
import { JetStreamConsumers, type RunningConsumer } from '@conduit/messaging';
import { SERVICE_CONFIG } from '@conduit/runtime';
import type { LlmExperimentsConfig } from '../config/llm-experiments.config.js';
import { ExperimentsRepository } from './experiments.repository.js';

/**
 * Keeps `experiments.runs` from the stream. A run is answered once its `llm.<org>.run.completed`
 * event — the run's record — is stored in JetStream; the durable consumer `llm-experiments-runs`
 * (shared by the replicas) inserts them in batches, acknowledging after commit, so a redelivery
 * is a no-op and a Postgres outage only delays the rows. `settled` gives results read-your-writes.
 */
@Injectable()
export class RunsConsumer implements OnApplicationBootstrap {
  private readonly logger = new Logger(RunsConsumer.name);
  private running?: RunningConsumer;
  private readonly options: LlmExperimentsConfig['service']['runs'];

  constructor(
    private readonly consumers: JetStreamConsumers,
    private readonly experiments: ExperimentsRepository,
    @Inject(SERVICE_CONFIG) config: LlmExperimentsConfig,
  ) {
    this.options = config.service.runs;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.running = await this.consumers.run({
      stream: LlmRunCompleted.stream,
      durable: this.options.durable,
      filterSubject: this.options.filterSubject,
      schema: LlmRunCompleted.schema,
      // From the stream's start on first creation: runs stored before are skipped by their id.
      startAt: 'all',
      batch: { maxMessages: this.options.batchMessages, maxWaitMs: this.options.batchWaitMs },
      handle: async (events) => {
        await this.experiments.insertRunEvents(events.map((e) => e.data));
      },
      isTransient: isDatabaseUnavailable,
    });
  }

  /**
   * Waits until every run of `orgId` answered so far is in `experiments.runs` (up to the
   * configured time); results read the table after it. On a timeout or a JetStream error the
   * table is read as it is, and the reason is logged.
   */
  async settled(orgId: string): Promise<void> {
    if (!this.running) return;
    try {
      const settled = await this.running.settled(
        LlmRunCompleted.subject(orgId),
        this.options.settleTimeoutMs,
      );
      if (!settled)
        this.logger.warn(`runs of ${orgId} not all stored after ${this.options.settleTimeoutMs} ms`);
    } catch (error) {
      this.logger.warn(`could not check the runs consumer: ${String(error)}`);
    }
  }
}
