import { Module } from '@nestjs/common';
import { ExperimentsController } from './experiments.controller.js';
import { ProvidersController } from './providers.controller.js';

@Module({ controllers: [ProvidersController, ExperimentsController] })
export class ExperimentsModule {}
