import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { register } from 'prom-client';
import { ReadinessRegistry, withTimeout } from './readiness.registry.js';

/**
 * `/health`: liveness (the process serves HTTP). `/readyz`: readiness — every registered
 * dependency check in parallel; 503 naming each failing one. `/metrics`: Prometheus text.
 * They answer with their own bodies, outside the API's error format.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: ReadinessRegistry,
  ) {}

  @Get('health')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const checks = this.readiness.list().map((c) => async () => {
      const session = this.indicators.check(c.name);
      try {
        await withTimeout(c.check(), c.timeoutMs);
        return session.up();
      } catch (error) {
        return session.down({ message: error instanceof Error ? error.message : String(error) });
      }
    });
    try {
      await reply.status(200).send(await this.health.check(checks));
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      await reply.status(503).send(error.getResponse());
    }
  }

  @Get('metrics')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    await reply.header('content-type', register.contentType).send(await register.metrics());
  }
}
