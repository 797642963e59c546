import {
  Global,
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type FactoryProvider,
} from '@nestjs/common';
import { ConsumerRunner } from './consumer-runner.js';
import { CoreBus } from './core-bus.js';
import { EventPublisher } from './event-publisher.js';
import { Messaging, MessagingHealth } from './messaging.js';
import type { MessagingOptions } from './messaging.options.js';
import { RpcClient } from './rpc-client.js';
import { RpcServer } from './rpc-server.js';

const MESSAGING = Symbol('MESSAGING');

/**
 * Injection token of the process's raw `NatsConnection`, for core pub/sub that is not an RPC or
 * a JetStream event: broadcasts every replica must see (cache invalidation, presence, scatter-gather).
 */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

/** Runs consumers in Nest apps; same API as the plain {@link ConsumerRunner}. */
export class JetStreamConsumers extends ConsumerRunner {}

@Injectable()
class MessagingLifecycle implements BeforeApplicationShutdown {
  constructor(@Inject(MESSAGING) private readonly messaging: Messaging) {}

  // Before pools close (onApplicationShutdown), so a consumer's batch in hand can still commit.
  async beforeApplicationShutdown(): Promise<void> {
    await this.messaging.close();
  }
}

export interface MessagingModuleAsyncOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly imports?: any[];
  readonly inject?: FactoryProvider['inject'];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly useFactory: (...deps: any[]) => MessagingOptions | Promise<MessagingOptions>;
}

/**
 * The NATS connection of a Nest app: connects (and provisions streams) at start-up and
 * provides {@link RpcServer}, {@link RpcClient}, {@link EventPublisher},
 * {@link JetStreamConsumers} and {@link MessagingHealth}. On shutdown consumers finish their
 * batch, then the connection drains.
 */
@Global()
@Module({})
export class MessagingModule {
  static forRootAsync(options: MessagingModuleAsyncOptions): DynamicModule {
    const from = <T>(pick: (m: Messaging) => T) => ({ useFactory: pick, inject: [MESSAGING] });
    return {
      module: MessagingModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide: MESSAGING,
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          useFactory: async (...deps: any[]) => Messaging.connect(await options.useFactory(...deps)),
          inject: options.inject ?? [],
        },
        MessagingLifecycle,
        { provide: RpcServer, ...from((m) => m.rpcServer) },
        { provide: RpcClient, ...from((m) => m.rpcClient) },
        { provide: EventPublisher, ...from((m) => m.publisher) },
        { provide: JetStreamConsumers, ...from((m) => m.consumers) },
        { provide: MessagingHealth, ...from((m) => m.health) },
        { provide: NATS_CONNECTION, ...from((m) => m.nc) },
        { provide: CoreBus, ...from((m) => new CoreBus(m.nc)) },
      ],
      exports: [
        RpcServer,
        RpcClient,
        EventPublisher,
        JetStreamConsumers,
        MessagingHealth,
        NATS_CONNECTION,
        CoreBus,
      ],
    };
  }
}
