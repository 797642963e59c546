// WARNING: stream names and subject spaces are wire names. Renaming one strands stored messages
// and breaks every consumer and external producer bound to it.

/** Names of the JetStream streams the platform owns. */
export type StreamName = 'TELEMETRY' | 'DEVICE' | 'ALERTS' | 'LLM' | 'DLQ';

/** A stream's identity and subject space; limits come from configuration at provisioning time. */
export interface StreamDefinition {
  readonly name: StreamName;
  readonly subjects: readonly string[];
  readonly description: string;
}

/** Every stream, keyed by name. */
export const STREAMS: Readonly<Record<StreamName, StreamDefinition>> = {
  TELEMETRY: {
    name: 'TELEMETRY',
    subjects: ['telemetry.ingest.*.*'],
    description: 'Telemetry point batches: telemetry.ingest.<orgId>.<deviceId>',
  },
  DEVICE: {
    name: 'DEVICE',
    subjects: ['device.>'],
    description: 'Device lifecycle, commands and state: device.<orgId>.<deviceId>.<event>',
  },
  ALERTS: { name: 'ALERTS', subjects: ['alert.>'], description: 'Alert lifecycle: alert.<orgId>.<event>' },
  LLM: { name: 'LLM', subjects: ['llm.>'], description: 'LLM experiment facts: llm.<orgId>.<event>' },
  DLQ: {
    name: 'DLQ',
    subjects: ['dlq.>'],
    description: 'Dead letters: dlq.<stream>.<consumer>, with reason headers',
  },
};

/** Subject a dead letter from `stream`/`consumer` is published on. */
export const dlqSubject = (stream: string, consumer: string): string => `dlq.${stream}.${consumer}`;

/**
 * Headers set on a dead letter. WARNING: wire names, read by operators' tooling.
 */
export const DLQ_HEADERS = {
  reason: 'Conduit-Dlq-Reason',
  consumer: 'Conduit-Dlq-Consumer',
  stream: 'Conduit-Dlq-Stream',
  subject: 'Conduit-Dlq-Subject',
  streamSeq: 'Conduit-Dlq-Stream-Seq',
  deliveries: 'Conduit-Dlq-Deliveries',
} as const;

/** Header carrying the org id on RPC requests and events (the payload carries it too). */
export const ORG_HEADER = 'Conduit-Org-Id';
