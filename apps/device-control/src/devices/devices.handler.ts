import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DeviceRequests } from '@conduit/contracts';
import { RpcServer } from '@conduit/messaging';
import { CommandsService } from '../commands/commands.service.js';
import { DevicesService } from './devices.service.js';

/** Serves `svc.device.*` requests for devices and their commands (queue group `device-control`). */
@Injectable()
export class DevicesHandler implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly devices: DevicesService,
    private readonly commands: CommandsService,
  ) {}

  onModuleInit(): void {
    this.rpc.handle(DeviceRequests.create, (req) => this.devices.create({ orgId: req.org_id }, req.device));
    this.rpc.handle(DeviceRequests.list, (req) => this.devices.list({ orgId: req.org_id }, req.query));
    this.rpc.handle(DeviceRequests.get, (req) => this.devices.get({ orgId: req.org_id }, req.id));
    this.rpc.handle(DeviceRequests.update, (req) =>
      this.devices.update({ orgId: req.org_id }, req.id, req.changes),
    );
    this.rpc.handle(DeviceRequests.delete, (req) => this.devices.delete({ orgId: req.org_id }, req.id));
    this.rpc.handle(DeviceRequests.state, (req) => this.commands.state({ orgId: req.org_id }, req.id));
    this.rpc.handle(DeviceRequests.createCommand, (req) =>
      this.commands.create({ orgId: req.org_id }, req.device_id, req.command, req.idempotency_key),
    );
    this.rpc.handle(DeviceRequests.getCommand, (req) =>
      this.commands.get({ orgId: req.org_id }, req.device_id, req.id),
    );
    this.rpc.handle(DeviceRequests.listCommands, (req) =>
      this.commands.list({ orgId: req.org_id }, req.device_id, req.query),
    );
  }
}
