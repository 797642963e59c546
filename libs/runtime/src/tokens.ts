/** Injection token of the service's validated `BaseConfig` (with its `service` section). */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
