import 'reflect-metadata';
import { runService } from '@conduit/runtime';
import { AppModule } from './app.module.js';
import { loadDeviceControlConfig } from './config/device-control.config.js';

await runService(loadDeviceControlConfig, (config) => AppModule.register(config));
