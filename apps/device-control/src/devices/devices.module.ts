import { Module } from '@nestjs/common';
import { DevicesHandler } from './devices.handler.js';
import { DevicesRepository } from './devices.repository.js';
import { DevicesService } from './devices.service.js';
import { PresenceRepository } from '../presence/presence.repository.js';
import { PresenceService } from '../presence/presence.service.js';
import { CommandDispatchService } from '../commands/command-dispatch.service.js';
import { CommandsRepository } from '../commands/commands.repository.js';
import { CommandsService } from '../commands/commands.service.js';
import { SitesHandler } from '../sites/sites.handler.js';
import { SitesRepository } from '../sites/sites.repository.js';
import { VendorsModule } from '../vendors/vendors.module.js';
import { outboxProviders } from '@conduit/runtime';
import { DEVICE_SCHEMA } from '../migrations/index.js';

// Devices, their commands and sites share the registry's tables and outbox: one module.
@Module({
  imports: [VendorsModule],
  providers: [
    CommandsRepository,
    CommandsService,
    CommandDispatchService,
    SitesRepository,
    SitesHandler,
    DevicesRepository,
    DevicesService,
    DevicesHandler,
    ...outboxProviders(DEVICE_SCHEMA),
    PresenceRepository,
    PresenceService,
  ],
})
export class DevicesModule {}
