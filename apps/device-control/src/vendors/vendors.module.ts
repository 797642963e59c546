import { Module, type OnModuleInit } from '@nestjs/common';
import { BreakerRegistry } from '@conduit/breakers';
import { CoreBus } from '@conduit/messaging';
import { PerformanceRegistry } from '@conduit/observability';
import { createServiceBreakers, SERVICE_CONFIG } from '@conduit/runtime';
import type { DeviceControlConfig } from '../config/device-control.config.js';
import { createVendorAdapters, mqttSharedGroup } from './vendors.js';

/** Every vendor adapter (`VendorAdapter[]`). */
export const VENDOR_ADAPTERS = Symbol('VENDOR_ADAPTERS');
/** The breakers of vendor dependencies, one per vendor and site (`BreakerRegistry`). */
export const VENDOR_BREAKERS = Symbol('VENDOR_BREAKERS');

/** Publishes breaker state changes and lists the breakers in `/performance/health`. */
class BreakerReporting implements OnModuleInit {
  constructor(
    private readonly breakers: BreakerRegistry,
    private readonly performance: PerformanceRegistry,
  ) {}

  onModuleInit(): void {
    this.performance.register('breakers', () => this.breakers.list());
  }
}

@Module({
  providers: [
    {
      provide: VENDOR_ADAPTERS,
      useFactory: (config: DeviceControlConfig) =>
        createVendorAdapters({
          mqttUrl: config.service.vendors.mqttUrl,
          mqttSharedGroup: mqttSharedGroup(config.service.vendors.mqttSharedGroup, config.database.url),
        }),
      inject: [SERVICE_CONFIG],
    },
    {
      provide: VENDOR_BREAKERS,
      useFactory: (config: DeviceControlConfig, bus: CoreBus) =>
        createServiceBreakers(config, bus, config.service.vendors.breaker, 'VendorBreakers'),
      inject: [SERVICE_CONFIG, CoreBus],
    },
    {
      provide: BreakerReporting,
      useFactory: (breakers: BreakerRegistry, performance: PerformanceRegistry) =>
        new BreakerReporting(breakers, performance),
      inject: [VENDOR_BREAKERS, PerformanceRegistry],
    },
  ],
  exports: [VENDOR_ADAPTERS, VENDOR_BREAKERS],
})
export class VendorsModule {}
