import 'reflect-metadata';
import { runService } from '@conduit/runtime';
import { AppModule } from './app.module.js';
import { loadLlmExperimentsConfig } from './config/llm-experiments.config.js';

await runService(loadLlmExperimentsConfig, (config) => AppModule.register(config));
