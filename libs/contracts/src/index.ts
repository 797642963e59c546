export { STREAMS, DLQ_HEADERS, ORG_HEADER, dlqSubject } from './core/streams.js';
export type { StreamDefinition, StreamName } from './core/streams.js';
export {
  ERROR_CODES,
  HTTP_STATUS_BY_CODE,
  errorBodySchema,
  fieldIssueSchema,
  toFieldIssues,
} from './core/errors.js';
export type { ErrorBody, ErrorCode, FieldIssue } from './core/errors.js';
export { SUBJECT_TOKEN, defineEvent, defineRequest } from './core/contract.js';
export type {
  EventContract,
  ParsedPayloadOf,
  ParsedRequestOf,
  PayloadOf,
  RequestContract,
  RequestOf,
  ResponseOf,
  SubjectArgsOf,
} from './core/contract.js';
export {
  COMMAND_STATUSES,
  DEVICE_STATUSES,
  MAX_DEVICE_PAGE,
  TERMINAL_COMMAND_STATUSES,
  commandAcceptedSchema,
  commandPageSchema,
  commandSchema,
  commandStatusSchema,
  commandTransitionSchema,
  createCommandBodySchema,
  createSiteBodySchema,
  deviceStateSchema,
  idempotencyKeySchema,
  listCommandsQuerySchema,
  siteIdSchema,
  siteSchema,
  updateDeviceBodySchema,
  updateSiteBodySchema,
  createDeviceBodySchema,
  deviceIdSchema,
  devicePageSchema,
  deviceSchema,
  deviceStatusSchema,
  listDevicesQuerySchema,
  orgIdSchema,
} from './device/device.schemas.js';
export type {
  Command,
  CommandAccepted,
  CommandPage,
  CommandStatus,
  CreateCommandBody,
  CreateSiteBody,
  DeviceState,
  ListCommandsQuery,
  Site,
  UpdateDeviceBody,
  UpdateSiteBody,
  CreateDeviceBody,
  Device,
  DevicePage,
  DeviceStatus,
  ListDevicesQuery,
} from './device/device.schemas.js';
export { DeviceRequests } from './device/device.requests.js';
export {
  BREAKER_STATE_SUBJECT,
  DeviceCommandTransitioned,
  DeviceDeleted,
  DeviceRegistered,
  DeviceStateReported,
  DeviceStatusChanged,
  DeviceUpdated,
} from './device/device.events.js';
export {
  AGGREGATES,
  DEFAULT_MAX_POINTS_PER_REQUEST,
  INTERVALS,
  bucketRowSchema,
  ingestAcceptedSchema,
  latestValueSchema,
  metricSchema,
  rawPointSchema,
  telemetryBatchBodySchema,
  telemetryPointsBodySchema,
  telemetryReadingsBodySchema,
  telemetryIngestMessageSchema,
  telemetryMultiQuerySchema,
  telemetryPointSchema,
  telemetryRangeQuerySchema,
  telemetryReadingSchema,
  timestampSchema,
} from './telemetry/telemetry.schemas.js';
export type {
  Aggregate,
  BucketRow,
  IngestAccepted,
  Interval,
  TelemetryIngestMessage,
  TelemetryMultiQuery,
  TelemetryPoint,
  TelemetryRangeQuery,
  TelemetryReading,
} from './telemetry/telemetry.schemas.js';
export { TelemetryIngested, parseTelemetryIngestSubject } from './telemetry/telemetry.events.js';
export { TelemetryRequests } from './telemetry/telemetry.requests.js';
