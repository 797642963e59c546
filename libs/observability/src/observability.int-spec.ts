import { Controller, Get, Module, Param } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpService } from './create-http-service.js';
import { LoggingModule } from './logging.module.js';
import { ObservabilityModule } from './observability.module.js';
import { ReadinessRegistry } from './readiness.registry.js';

@Controller('things')
class ThingsController {
  @Get(':id')
  get(@Param('id') id: string): { id: string } {
    return { id };
  }
}

@Module({
  imports: [
    LoggingModule.forRoot({ level: 'silent', serviceName: 'obs-test' }),
    ObservabilityModule.forRoot({ serviceName: 'obs-test' }),
  ],
  controllers: [ThingsController],
})
class TestModule {}

describe(ObservabilityModule.name, () => {
  let app: NestFastifyApplication;
  let base: string;
  let dependencyUp = false;

  beforeAll(async () => {
    app = await createHttpService(TestModule, { host: '127.0.0.1', port: 0, handleSignals: false });
    app.get(ReadinessRegistry).register('always', async () => undefined);
    app.get(ReadinessRegistry).register('flaky-db', async () => {
      if (!dependencyUp) throw new Error('connection refused');
    });
    const address = app.getHttpServer().address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers /health while the process runs', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz 503 naming the failing check, then 200 once it passes', async () => {
    dependencyUp = false;
    const down = await fetch(`${base}/readyz`);
    const downBody = (await down.json()) as { error: Record<string, { status: string; message?: string }> };
    expect(down.status).toBe(503);
    expect(downBody.error['flaky-db']).toEqual({ status: 'down', message: 'connection refused' });
    expect(downBody.error['always']).toBeUndefined();

    dependencyUp = true;
    const up = await fetch(`${base}/readyz`);
    expect(up.status).toBe(200);
    expect(((await up.json()) as { status: string }).status).toBe('ok');
  });

  it('labels the HTTP histogram with the route pattern and echoes the request id', async () => {
    const res = await fetch(`${base}/things/abc-123`, { headers: { 'x-request-id': 'req-42' } });
    expect(res.headers.get('x-request-id')).toBe('req-42');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /http_server_request_duration_seconds_count\{[^}]*route="\/things\/:id"[^}]*status_code="200"[^}]*\} 1/,
    );
    expect(metrics).not.toContain('abc-123');
    expect(metrics).toContain('service="obs-test"');
  });
});
