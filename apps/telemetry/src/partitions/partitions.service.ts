import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PointsRepository } from '../ingest/points.repository.js';

export const PARTITION_OPTIONS = Symbol('PARTITION_OPTIONS');
export interface PartitionOptions {
  /** Days of raw points kept; older daily partitions are dropped. */
  readonly retentionDays: number;
  /** Daily partitions created ahead of today. */
  readonly daysAhead: number;
}

const DAY_MS = 86_400_000;
const MAINTAIN_EVERY_MS = 3_600_000;

/** `points_20261124` for the UTC day starting at `dayMs`. */
export const partitionName = (dayMs: number): string =>
  `points_${new Date(dayMs).toISOString().slice(0, 10).replaceAll('-', '')}`;

/**
 * Keeps `telemetry.points` partitioned by UTC day: creates tomorrow's (and `daysAhead` more)
 * before data for them arrives, drops days past retention, and trims the default partition
 * (late or far-future points). Runs at start and hourly; replicas serialise on a transaction
 * advisory lock (safe through PgBouncer's transaction mode).
 */
@Injectable()
export class PartitionsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PartitionsService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly points: PointsRepository,
    @Inject(PARTITION_OPTIONS) private readonly options: PartitionOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.maintain();
    this.timer = setInterval(() => {
      this.maintain().catch((error: unknown) =>
        this.logger.error(`partition maintenance failed: ${String(error)}`),
      );
    }, MAINTAIN_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async maintain(now = Date.now()): Promise<{ created: string[]; dropped: string[] }> {
    const today = Math.floor(now / DAY_MS) * DAY_MS;
    const cutoff = today - this.options.retentionDays * DAY_MS;
    return this.dataSource.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('conduit.telemetry.partitions'))`);
      const existing = new Set(
        (
          (await tx.query(
            `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'telemetry.points'::regclass`,
          )) as { relname: string }[]
        ).map((r) => r.relname),
      );
      const created: string[] = [];
      for (
        let day = Math.max(today - DAY_MS, cutoff);
        day <= today + this.options.daysAhead * DAY_MS;
        day += DAY_MS
      ) {
        const name = partitionName(day);
        if (existing.has(name)) continue;
        const from = new Date(day).toISOString();
        const to = new Date(day + DAY_MS).toISOString();
        await tx.query(`SAVEPOINT p`);
        try {
          await tx.query(
            `CREATE TABLE telemetry.${name} PARTITION OF telemetry.points FOR VALUES FROM ('${from}') TO ('${to}')`,
          );
          await tx.query(`RELEASE SAVEPOINT p`);
          created.push(name);
        } catch (error) {
          // Rows for that day already sit in the default partition: they stay there, still queryable.
          await tx.query(`ROLLBACK TO SAVEPOINT p`);
          this.logger.warn(`could not create ${name}: ${String(error)}`);
        }
      }
      const dropped: string[] = [];
      for (const name of existing) {
        const match = /^points_(\d{4})(\d{2})(\d{2})$/.exec(name);
        if (match && Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) < cutoff) {
          await tx.query(`DROP TABLE telemetry.${name}`);
          dropped.push(name);
        }
      }
      await tx.query(`DELETE FROM telemetry.points_default WHERE ts < $1`, [new Date(cutoff)]);
      // 5-minute rollups live as long as the raw points they summarise.
      await tx.query(`DELETE FROM telemetry.points_5m WHERE bucket < $1`, [new Date(cutoff)]);
      await tx.query(`DELETE FROM telemetry.points_hourly WHERE hour < $1`, [
        new Date(cutoff - 365 * DAY_MS),
      ]);
      if (created.length || dropped.length)
        this.logger.log(`partitions created ${created.join(',') || '-'} dropped ${dropped.join(',') || '-'}`);
      await this.points.pruneConsumed(48);
      return { created, dropped };
    });
  }
}
