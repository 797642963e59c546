import 'reflect-metadata';
import { runService } from '@conduit/runtime';
import { AppModule } from './app.module.js';
import { loadAnalyticsConfig } from './config/analytics.config.js';

await runService(loadAnalyticsConfig, (config) => AppModule.register(config));
