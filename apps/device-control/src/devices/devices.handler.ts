import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DeviceRequests } from '@conduit/contracts';
import { RpcServer } from '@conduit/messaging';
import { DevicesService } from './devices.service.js';

/** Serves `svc.device.*` requests (queue group `device-control`). */
@Injectable()
export class DevicesHandler implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly devices: DevicesService,
  ) {}

  onModuleInit(): void {
    this.rpc.handle(DeviceRequests.create, (req) => this.devices.create({ orgId: req.org_id }, req.device));
    this.rpc.handle(DeviceRequests.list, (req) => this.devices.list({ orgId: req.org_id }, req.query));
    this.rpc.handle(DeviceRequests.get, (req) => this.devices.get({ orgId: req.org_id }, req.id));
  }
}
