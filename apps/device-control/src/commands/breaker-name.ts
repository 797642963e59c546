/**
 * The breaker of a command's dependency: the vendor integration at the device's site. Sites are
 * per org (each with its own settings, e.g. a hub's URL), so the org is part of the name.
 */
export const breakerName = (vendor: string, orgId: string, site: string | null): string =>
  `${vendor}:${orgId}:${site ?? '*'}`;

/**
 * {@link breakerName} as a SQL expression over the given column or parameter expressions: the
 * command insert names its breaker in the statement that reads the device. The e2e suite's
 * breaker tests and the repository's int test hold the two forms to the same names.
 */
export const BREAKER_NAME_SQL = (vendor: string, orgId: string, site: string): string =>
  `(${vendor} || ':' || ${orgId} || ':' || coalesce(${site}, '*'))`;
