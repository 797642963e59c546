import { Module } from '@nestjs/common';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { OutboxService } from '../outbox/outbox.service.js';
import { DevicesHandler } from './devices.handler.js';
import { DevicesRepository } from './devices.repository.js';
import { DevicesService } from './devices.service.js';
import { PresenceRepository } from '../presence/presence.repository.js';
import { PresenceService } from '../presence/presence.service.js';

@Module({
  providers: [
    DevicesRepository,
    DevicesService,
    DevicesHandler,
    OutboxRepository,
    OutboxService,
    PresenceRepository,
    PresenceService,
  ],
})
export class DevicesModule {}
