import { Module } from '@nestjs/common';
import { DevicesController } from './devices.controller.js';
import { SitesController } from './sites.controller.js';

@Module({ controllers: [DevicesController, SitesController] })
export class DevicesModule {}
