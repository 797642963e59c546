import 'reflect-metadata';
import { runService } from '@conduit/runtime';
import { AppModule } from './app.module.js';
import { loadGatewayConfig } from './config/gateway.config.js';
import { setupOpenApi } from './common/openapi.js';

await runService(loadGatewayConfig, (config) => AppModule.register(config), {
  bodyLimitBytes: (config) => config.service.bodyLimitBytes,
  beforeListen: setupOpenApi,
});
