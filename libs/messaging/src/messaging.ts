import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { StreamDefinition } from '@conduit/contracts';
import { ConsumerRunner } from './consumer-runner.js';
import { EventPublisher } from './event-publisher.js';
import type { MessagingOptions } from './messaging.options.js';
import { RpcClient } from './rpc-client.js';
import { RpcServer } from './rpc-server.js';
import { provisionStreams } from './stream-provisioner.js';

/** Connection state for readiness checks. */
export interface MessagingStatus {
  readonly connected: boolean;
  readonly server?: string;
  readonly reconnects: number;
}

/** Readiness view of the connection. */
export class MessagingHealth {
  constructor(private readonly state: () => MessagingStatus) {}

  status(): MessagingStatus {
    return this.state();
  }
}

/**
 * One NATS connection per process (reconnecting forever) and everything built on it. `close()`
 * stops consumers (each finishes its batch in hand), stops serving requests, then drains.
 */
export class Messaging implements AsyncDisposable {
  private connected = true;
  private reconnects = 0;
  readonly health = new MessagingHealth(() => ({
    connected: this.connected && !this.nc.isClosed(),
    server: this.nc.getServer(),
    reconnects: this.reconnects,
  }));
  readonly rpcServer: RpcServer;
  readonly rpcClient: RpcClient;
  readonly publisher: EventPublisher;
  readonly consumers: ConsumerRunner;

  private constructor(
    /** The raw connection, for core pub/sub (broadcasts such as cache invalidation, presence). */
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly options: MessagingOptions,
  ) {
    const js = jetstream(nc);
    this.rpcServer = new RpcServer(nc);
    this.rpcClient = new RpcClient(nc, options.requestTimeoutMs);
    this.publisher = new EventPublisher(js);
    this.consumers = new ConsumerRunner(nc, js, jsm, options.consumers);
    void this.watchStatus();
  }

  /** Connects (failing fast if no server answers at boot) and provisions streams when asked. */
  static async connect(options: MessagingOptions, streams?: readonly StreamDefinition[]): Promise<Messaging> {
    const nc = await connect({
      servers: [...options.servers],
      name: options.name,
      user: options.user,
      pass: options.password,
      // Replies come to `_INBOX_<name>.…`: NATS permissions can then let each service read its
      // own replies only (deploy/nats/nats-server.conf).
      inboxPrefix: `_INBOX_${options.name.replace(/[^A-Za-z0-9_-]/g, '_')}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // Otherwise every request (RPC calls, each JetStream publish) allocates two Errors with
      // stack traces up front, used only if it fails: ≈ 3.4 % of device-control's CPU in the
      // commands bench. Our RPC errors name the subject, which is what a trace would add.
      noAsyncTraces: true,
    });
    const jsm = await jetstreamManager(nc);
    if (options.provisionStreams) await provisionStreams(jsm, options.streams, streams);
    return new Messaging(nc, jsm, options);
  }

  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.consumers.stopAll();
    await this.rpcServer.stop();
    await this.nc.drain().catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') this.connected = false;
      if (s.type === 'reconnect') {
        this.connected = true;
        this.reconnects++;
      }
    }
  }
}
