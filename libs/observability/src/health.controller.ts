import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { register } from 'prom-client';
import { ReadinessRegistry } from './readiness.registry.js';

/**
 * `/health`, `/readyz` and `/metrics`. They write their replies themselves (`@Res()`), so an
 * app's global interceptors, serializers and error format never reshape what probes and
 * Prometheus read.
 */
@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessRegistry) {}

  /** Liveness: 200 `{ "status": "ok" }` for as long as the process serves HTTP; checks nothing else. */
  @Get('health')
  live(@Res() reply: FastifyReply): void {
    void reply.send({ status: 'ok' });
  }

  /** Readiness: 200 with every check up, else 503; the body is the {@link ReadinessReport}. */
  @Get('readyz')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const report = await this.readiness.run();
    await reply.status(report.status === 'ok' ? 200 : 503).send(report);
  }

  /** The prom-client default registry in the Prometheus text format. */
  @Get('metrics')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    const body = await register.metrics();
    await reply.header('content-type', register.contentType).send(body);
  }
}
