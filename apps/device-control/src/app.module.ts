import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceRuntimeModule } from '@conduit/runtime';
import type { DeviceControlConfig } from './config/device-control.config.js';
import { DeviceEntity } from './devices/device.entity.js';
import { DevicesModule } from './devices/devices.module.js';
import { DEVICE_SCHEMA, deviceControlMigrations } from './migrations/index.js';

@Module({})
export class AppModule {
  static register(config: DeviceControlConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceRuntimeModule.forRoot({
          config,
          database: { schema: DEVICE_SCHEMA, entities: [DeviceEntity], migrations: deviceControlMigrations },
        }),
        DevicesModule,
      ],
    };
  }
}
