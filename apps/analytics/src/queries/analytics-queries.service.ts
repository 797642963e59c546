import { Inject, Injectable } from '@nestjs/common';
import {
  SEVERITIES,
  TelemetryRequests,
  type AnalyticsSummary,
  type AnomaliesQuery,
  type Anomaly,
  type CapacityBody,
  type CapacityEstimate,
  type ResponseOf,
  type RollupsQuery,
  type SummaryQuery,
} from '@conduit/contracts';
import type { TenantScope } from '@conduit/database';
import { RpcClient } from '@conduit/messaging';
import { SERVICE_CONFIG } from '@conduit/runtime';
import { AlertsRepository } from '../alerts/alerts.repository.js';
import { SeriesRepository } from '../anomaly/series.repository.js';
import type { AnalyticsConfig, AnalyticsOptions } from '../config/analytics.config.js';
import { DevicesRepository } from '../devices/devices.repository.js';

const GIB = 2 ** 30;
/** Resident memory of one replica of each of the five services at rest (measured ≈ 100–180 MiB each). */
const BASE_MEMORY_GIB = 0.75;
/** Analytics state per tracked series in memory (bench: see docs/benchmarks.md, analytics). */
const BYTES_PER_SERIES = 1_024;
/** JSON on the wire per point in a 1 000-point batch (`{"device_id":…,"metric":…,"ts":…,"value":…}`). */
const WIRE_BYTES_PER_POINT = 80;
/** Keep CPUs at ≤ 70 % at the estimated rate: bursts, replays after an outage, reads. */
const TARGET_UTILISATION = 0.7;

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The read side: anomalies, the fleet summary, rollups (asked of telemetry) and capacity estimates. */
@Injectable()
export class AnalyticsQueriesService {
  private readonly options: AnalyticsOptions;

  constructor(
    private readonly series: SeriesRepository,
    private readonly alerts: AlertsRepository,
    private readonly devices: DevicesRepository,
    private readonly rpc: RpcClient,
    @Inject(SERVICE_CONFIG) config: AnalyticsConfig,
  ) {
    this.options = config.service;
  }

  anomalies(scope: TenantScope, query: AnomaliesQuery): Promise<Anomaly[]> {
    return this.series.anomalies(scope, query);
  }

  async summary(scope: TenantScope, query: SummaryQuery): Promise<AnalyticsSummary> {
    const [statuses, perMinute, active, top] = await Promise.all([
      this.devices.statusCounts(scope),
      this.series.pointsPerMinute(scope, query.minutes),
      this.alerts.activeBySeverity(scope),
      this.series.topAnomalous(scope, new Date(Date.now() - 86_400_000), query.top),
    ]);
    return {
      devices: {
        online: statuses['online'] ?? 0,
        offline: statuses['offline'] ?? 0,
        unknown: statuses['unknown'] ?? 0,
      },
      points_per_minute: perMinute,
      active_alerts: Object.fromEntries(
        SEVERITIES.map((s) => [s, active[s] ?? 0]),
      ) as AnalyticsSummary['active_alerts'],
      top_anomalous_devices: top,
      generated_at: new Date().toISOString(),
    };
  }

  /** Hourly (or daily) buckets from telemetry's `points_hourly`, over NATS: analytics never reads telemetry's schema. */
  rollups(scope: TenantScope, query: RollupsQuery): Promise<ResponseOf<typeof TelemetryRequests.query>> {
    return this.rpc.request(
      TelemetryRequests.query,
      {
        org_id: scope.orgId,
        query: {
          device_ids: query.device,
          ...(query.metric ? { metrics: [query.metric] } : {}),
          from: query.from,
          to: query.to,
          interval: query.interval,
          agg: query.agg,
        },
      },
      { orgId: scope.orgId },
    );
  }

  /** Cores, memory, storage and bandwidth for a fleet, from this platform's measured rates. */
  capacity(input: CapacityBody): CapacityEstimate {
    const perCore = this.options.capacity.pointsPerCoreS;
    const bytesPerSample = input.bytes_per_sample ?? this.options.capacity.bytesPerSample;
    const pps = input.devices * input.samples_per_second_per_device;
    const cores = Math.max(1, Math.ceil(pps / (perCore * TARGET_UTILISATION)));
    const storedBytes = pps * 86_400 * input.retention_days * bytesPerSample;
    const memoryGib = BASE_MEMORY_GIB + (input.devices * BYTES_PER_SERIES) / GIB;
    const mbps = (pps * WIRE_BYTES_PER_POINT * 8) / 1e6;
    return {
      input: { ...input, bytes_per_sample: bytesPerSample },
      points_per_second: round(pps),
      cores,
      memory_gib: round(memoryGib),
      storage_gib: round(storedBytes / GIB),
      bandwidth_mbps: round(mbps),
      basis: {
        ingest_points_per_core_s: perCore,
        ingest_rate_source:
          'ANALYTICS_INGEST_POINTS_PER_CORE_S (docs/benchmarks.md: ingest end to end on 2 cores)',
        target_cpu_utilisation: TARGET_UTILISATION,
        bytes_per_sample: bytesPerSample,
        base_memory_gib: BASE_MEMORY_GIB,
        analytics_bytes_per_series: BYTES_PER_SERIES,
        wire_bytes_per_point: WIRE_BYTES_PER_POINT,
      },
      formula: {
        points_per_second: `devices × samples_per_second_per_device = ${input.devices} × ${input.samples_per_second_per_device} = ${round(pps)}`,
        cores: `ceil(points_per_second / (ingest_points_per_core_s × target_cpu_utilisation)) = ceil(${round(pps)} / (${perCore} × ${TARGET_UTILISATION})) = ${cores}`,
        storage_gib: `points_per_second × 86 400 × retention_days × bytes_per_sample / 2^30 = ${round(pps)} × 86400 × ${input.retention_days} × ${bytesPerSample} / 2^30 = ${round(storedBytes / GIB)} (raw points; hourly rollups add < 1 %)`,
        memory_gib: `base_memory_gib + devices × analytics_bytes_per_series / 2^30 = ${BASE_MEMORY_GIB} + ${input.devices} × ${BYTES_PER_SERIES} / 2^30 = ${round(memoryGib)} (one metric per device; multiply the second term by metrics per device; Postgres buffers not included)`,
        bandwidth_mbps: `points_per_second × wire_bytes_per_point × 8 / 10^6 = ${round(pps)} × ${WIRE_BYTES_PER_POINT} × 8 / 10^6 = ${round(mbps)} (inbound, before compression)`,
      },
    };
  }
}
