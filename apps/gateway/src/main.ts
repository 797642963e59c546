import 'reflect-metadata';
import { runService } from '@conduit/runtime';
import { AppModule } from './app.module.js';
import { setupTransport } from './common/transport.js';
import { loadGatewayConfig } from './config/gateway.config.js';
import { setupOpenApi } from './common/openapi.js';

await runService(loadGatewayConfig, (config) => AppModule.register(config), {
  bodyLimitBytes: (config) => config.service.bodyLimitBytes,
  // Only the ingest routes take large bodies; everything else keeps the small default.
  routeBodyLimits: (config) => ({
    '/api/v1/telemetry': config.service.ingestBodyLimitBytes,
    '/api/v1/telemetry/batch': config.service.ingestBodyLimitBytes,
  }),
  beforeListen: async (app) => {
    await setupTransport(app);
    setupOpenApi(app);
  },
});
