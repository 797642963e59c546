import { Injectable, Logger } from '@nestjs/common';
import { LlmRunCompleted } from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { EventPublisher } from '@conduit/messaging';
import { OutboxService } from '@conduit/runtime';
import { ExperimentsRepository, type LlmRunCompletedPayload, type RunRow } from './experiments.repository.js';

/** How long a run's event may wait for JetStream's ack before the run is stored in Postgres instead. */
export const RECORD_PUBLISH_TIMEOUT_MS = 2_000;

/**
 * Makes a run durable before it is answered. Its `llm.<org>.run.completed` event is its record:
 * once JetStream has stored it, the runs consumer inserts the row in a batch — one publish on the
 * way instead of an insert through PgBouncer (and the outbox row it carried). When JetStream does
 * not acknowledge, the run is stored in Postgres with its event in the outbox, relayed later; a
 * copy that did reach the stream is dropped by its msg id or, past the duplicate window, by the
 * row's id.
 */
@Injectable()
export class RunRecorder {
  private readonly logger = new Logger(RunRecorder.name);

  constructor(
    private readonly publisher: EventPublisher,
    private readonly experiments: ExperimentsRepository,
    private readonly outbox: OutboxService,
  ) {}

  /** Resolves `stream` or `postgres`: where the run was made durable. */
  async record(
    scope: TenantScope,
    row: RunRow,
    event: LlmRunCompletedPayload,
  ): Promise<'stream' | 'postgres'> {
    const subject = LlmRunCompleted.subject(scope.orgId);
    const msgId = `llm.run.completed:${row.id}`;
    try {
      await this.publisher.publishRaw(subject, event, { msgId, timeoutMs: RECORD_PUBLISH_TIMEOUT_MS });
      return 'stream';
    } catch (error) {
      this.logger.warn(
        `run ${row.id}: JetStream did not store its event (${String(error)}); storing it in Postgres`,
      );
    }
    const committed = await this.experiments.insertRun(scope, row, { subject, msgId, payload: event });
    this.outbox.relayCommitted([committed]);
    return 'postgres';
  }
}
