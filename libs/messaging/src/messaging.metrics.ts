import { Counter, Gauge, Histogram, register } from 'prom-client';

const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

/** Prometheus metrics of the messaging layer, in prom-client's default registry. */
export const messagingMetrics = {
  handlerDuration: once(
    'conduit_nats_handler_duration_seconds',
    () =>
      new Histogram({
        name: 'conduit_nats_handler_duration_seconds',
        help: 'Request/reply handler duration by subject and outcome',
        labelNames: ['subject', 'outcome'] as const,
        buckets,
      }),
  ),
  requestDuration: once(
    'conduit_nats_request_duration_seconds',
    () =>
      new Histogram({
        name: 'conduit_nats_request_duration_seconds',
        help: 'Request/reply round trip seen by the caller, by subject and outcome',
        labelNames: ['subject', 'outcome'] as const,
        buckets,
      }),
  ),
  published: once(
    'conduit_jetstream_published_total',
    () =>
      new Counter({
        name: 'conduit_jetstream_published_total',
        help: 'JetStream publishes acknowledged, by stream and whether the server saw a duplicate',
        labelNames: ['stream', 'duplicate'] as const,
      }),
  ),
  consumed: once(
    'conduit_jetstream_consumed_total',
    () =>
      new Counter({
        name: 'conduit_jetstream_consumed_total',
        help: 'JetStream messages handled, by consumer and outcome (acked, nacked, dead_lettered)',
        labelNames: ['stream', 'consumer', 'outcome'] as const,
      }),
  ),
  deadLettered: once(
    'conduit_dlq_messages_total',
    () =>
      new Counter({
        name: 'conduit_dlq_messages_total',
        help: 'Messages copied to the dead-letter stream, by reason kind',
        labelNames: ['stream', 'consumer', 'kind'] as const,
      }),
  ),
  pending: once(
    'conduit_jetstream_consumer_pending_messages',
    () =>
      new Gauge({
        name: 'conduit_jetstream_consumer_pending_messages',
        help: 'Messages in the stream not yet delivered to the consumer (lag)',
        labelNames: ['stream', 'consumer'] as const,
      }),
  ),
  ackPending: once(
    'conduit_jetstream_consumer_ack_pending_messages',
    () =>
      new Gauge({
        name: 'conduit_jetstream_consumer_ack_pending_messages',
        help: 'Messages delivered to the consumer and not yet acknowledged',
        labelNames: ['stream', 'consumer'] as const,
      }),
  ),
};
