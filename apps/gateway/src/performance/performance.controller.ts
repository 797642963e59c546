import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HttpMetricsService, type RouteStats } from '@conduit/observability';
import { PerformanceResponder } from '@conduit/runtime';
import { Authenticated } from '../identity/auth.guard.js';
import { PerformanceService, type PerformanceHealth } from './performance.service.js';

@ApiTags('performance')
@Controller('performance')
@Authenticated()
export class PerformanceController {
  constructor(
    private readonly performance: PerformanceService,
    private readonly metrics: HttpMetricsService,
    private readonly responder: PerformanceResponder,
  ) {}

  @Get('health')
  @ApiOperation({
    summary:
      'Rate limiter, caches, breakers, pools and NATS of every replica of every service, gathered over NATS ' +
      'within a deadline; PgBouncer pools',
  })
  health(): Promise<PerformanceHealth> {
    return this.performance.health();
  }

  @Get('metrics')
  @ApiOperation({
    summary: "This gateway replica's request rate, latency percentiles and error rate per route, last minute",
  })
  metricsOfLastMinute(): { instance: string; window_s: number; routes: RouteStats[] } {
    return { instance: this.responder.instance, window_s: 60, routes: this.metrics.window.lastMinute() };
  }
}
