import 'reflect-metadata';
import { runService } from '@conduit/runtime';
import { AppModule } from './app.module.js';
import { loadTelemetryConfig } from './config/telemetry.config.js';

await runService(loadTelemetryConfig, (config) => AppModule.register(config));
