import type { Provider } from '@nestjs/common';
import { OUTBOX_SCHEMA, OutboxRepository } from './outbox.repository.js';
import { OutboxService } from './outbox.service.js';

export { OUTBOX_OPTIONS, OUTBOX_SCHEMA, OutboxRepository } from './outbox.repository.js';
export type { OutboxEvent, OutboxVacuumOptions } from './outbox.repository.js';
export { OutboxService } from './outbox.service.js';
export { subjectSql } from './subject-sql.js';

/**
 * The providers of a service's transactional outbox on `<schema>.outbox`: list them in the one
 * module that owns the service's writes (each listing makes its own relay).
 */
export const outboxProviders = (schema: string): Provider[] => [
  { provide: OUTBOX_SCHEMA, useValue: schema },
  OutboxRepository,
  OutboxService,
];
