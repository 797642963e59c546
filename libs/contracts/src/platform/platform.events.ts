// WARNING: core NATS subjects (not JetStream): every replica of every service binds to them, and
// the NATS permissions in deploy/nats/nats-server.conf name them.

/** Every replica of every service answers it with its performance snapshot (no queue group). */
export const PERFORMANCE_SUBJECT = 'conduit.perf.health';

/** Gateway replicas announce themselves here and count each other (the local rate-limit share). */
export const GATEWAY_PRESENCE_SUBJECT = 'conduit.presence.gateway';
