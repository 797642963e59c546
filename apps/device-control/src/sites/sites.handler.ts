import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DeviceRequests } from '@conduit/contracts';
import { RpcError, RpcServer } from '@conduit/messaging';
import { SiteExistsError, SitesRepository } from './sites.repository.js';

/** Serves `svc.device.sites.*`. Sites carry no events: nothing downstream follows them yet. */
@Injectable()
export class SitesHandler implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly sites: SitesRepository,
  ) {}

  onModuleInit(): void {
    this.rpc.handle(DeviceRequests.createSite, async (req) => {
      try {
        return await this.sites.create({ orgId: req.org_id }, req.site);
      } catch (error) {
        if (error instanceof SiteExistsError) throw new RpcError('conflict', error.message);
        throw error;
      }
    });
    this.rpc.handle(DeviceRequests.listSites, async (req) => ({
      data: await this.sites.list({ orgId: req.org_id }),
    }));
    this.rpc.handle(DeviceRequests.getSite, async (req) =>
      this.found(await this.sites.get({ orgId: req.org_id }, req.id), req.id),
    );
    this.rpc.handle(DeviceRequests.updateSite, async (req) =>
      this.found(await this.sites.update({ orgId: req.org_id }, req.id, req.changes), req.id),
    );
    this.rpc.handle(DeviceRequests.deleteSite, async (req) => {
      if (!(await this.sites.delete({ orgId: req.org_id }, req.id)))
        throw new RpcError('not_found', `site ${req.id} not found`);
      return { deleted: true as const };
    });
  }

  private found<T>(value: T | null, id: string): T {
    if (value === null) throw new RpcError('not_found', `site ${id} not found`);
    return value;
  }
}
