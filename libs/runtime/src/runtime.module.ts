import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { BaseConfig } from '@conduit/config';
import {
  createDataSource,
  isDatabaseUnavailable,
  pingDatabase,
  runMigrations,
  type MigrationList,
} from '@conduit/database';
import {
  MessagingHealth,
  MessagingModule,
  RpcError,
  RpcServer,
  type MessagingOptions,
} from '@conduit/messaging';
import { LoggingModule, ObservabilityModule, ReadinessRegistry } from '@conduit/observability';
import { DataSource } from 'typeorm';
import { PerformanceResponder } from './performance.responder.js';

import { SERVICE_CONFIG } from './tokens.js';

export { SERVICE_CONFIG };

/** The service's own schema, its entities and migrations. */
export interface RuntimeDatabase {
  readonly schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly entities: Function[];
  readonly migrations: MigrationList;
}

export interface RuntimeOptions {
  readonly config: BaseConfig;
  /** Omit for a service without Postgres. */
  readonly database?: RuntimeDatabase;
  /** Create/update the JetStream streams at start-up (default true; idempotent). */
  readonly provisionStreams?: boolean;
}

/** Maps the validated config to the messaging lib's options. */
export function messagingOptions(config: BaseConfig, provisionStreams = true): MessagingOptions {
  return {
    name: config.serviceName,
    servers: config.nats.servers,
    user: config.nats.user,
    password: config.nats.password,
    requestTimeoutMs: config.nats.requestTimeoutMs,
    streams: config.streams,
    consumers: config.consumers,
    provisionStreams,
  };
}

@Injectable()
class RuntimeReadiness implements OnModuleInit {
  constructor(
    private readonly registry: ReadinessRegistry,
    private readonly messaging: MessagingHealth,
    private readonly rpc: RpcServer,
    @Inject(DataSource) private readonly dataSource: DataSource | null,
  ) {}

  onModuleInit(): void {
    // A request that fails because Postgres is down answers 503, which clients may retry.
    this.rpc.classifyErrors((error) =>
      isDatabaseUnavailable(error)
        ? new RpcError('unavailable', 'database unavailable, retry later')
        : undefined,
    );
    this.registry.register('nats', async () => {
      if (!this.messaging.status().connected) throw new Error('not connected to NATS');
    });
    const dataSource = this.dataSource;
    if (dataSource) this.registry.register('postgres', () => pingDatabase(dataSource));
  }
}

@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource | null) {}

  // Runs after messaging stopped its consumers (beforeApplicationShutdown), so the batch in
  // hand could still commit.
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * Everything a Conduit service runs on: JSON logs with trace ids, /health /readyz /metrics,
 * one NATS connection (streams provisioned), and — when `database` is given — its schema
 * migrated (when MIGRATE_ON_START) and a DataSource through PgBouncer, with readiness checks
 * for each. Import once in the app module.
 */
@Module({})
export class ServiceRuntimeModule {
  static forRoot(options: RuntimeOptions): DynamicModule {
    const { config, database } = options;
    const logger = new Logger('Runtime');
    return {
      module: ServiceRuntimeModule,
      global: true,
      imports: [
        LoggingModule.forRoot({ level: config.log.level, serviceName: config.serviceName }),
        ObservabilityModule.forRoot({ serviceName: config.serviceName }),
        MessagingModule.forRootAsync({
          useFactory: () => messagingOptions(config, options.provisionStreams ?? true),
        }),
      ],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        {
          provide: DataSource,
          useFactory: async (): Promise<DataSource | null> => {
            if (!database) return null;
            if (config.database.migrateOnStart) {
              const result = await runMigrations({
                url: config.database.migrationUrl,
                schema: database.schema,
                migrations: database.migrations,
                createDatabase: config.preset !== 'production',
              });
              if (result.applied.length)
                logger.log(`migrated ${database.schema}: ${result.applied.join(', ')}`);
            }
            const dataSource = createDataSource({
              url: config.database.url,
              schema: database.schema,
              poolMax: config.database.poolMax,
              applicationName: config.serviceName,
              entities: database.entities,
            });
            return dataSource.initialize();
          },
        },
        RuntimeReadiness,
        DatabaseLifecycle,
        PerformanceResponder,
      ],
      exports: [SERVICE_CONFIG, DataSource, PerformanceResponder],
    };
  }
}
