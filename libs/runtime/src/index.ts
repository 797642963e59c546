export { SERVICE_CONFIG, ServiceRuntimeModule, messagingOptions } from './runtime.module.js';
export type { RuntimeDatabase, RuntimeOptions } from './runtime.module.js';
export { runService } from './run-service.js';
export { PerformanceResponder } from './performance.responder.js';
export type { PerformanceSnapshot } from './performance.responder.js';
export {
  OUTBOX_OPTIONS,
  OUTBOX_SCHEMA,
  OutboxRepository,
  OutboxService,
  outboxProviders,
  subjectSql,
} from './outbox/index.js';
export type { OutboxEvent, OutboxVacuumOptions } from './outbox/index.js';
export { createServiceBreakers } from './breakers.js';
export { HttpBodyTooLargeError, HttpClient, httpErrorText } from './http-client.js';
export type { HttpAnswer, HttpClientOptions } from './http-client.js';
