/**
 * The tenant every repository method takes. Required, so that an unscoped query does not
 * compile: no repository method reads or writes across orgs.
 */
export interface TenantScope {
  readonly orgId: string;
}
