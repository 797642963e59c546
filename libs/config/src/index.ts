export { ConfigError } from './config.error.js';
export type { ConfigIssue } from './config.error.js';
export { PRESETS, envBool, envInt, envIntList, envUrl } from './env.js';
export type { Preset } from './env.js';
export { BASE_PRESETS, baseEnvSchema } from './base.config.js';
export type { BaseConfig, BaseEnv } from './base.config.js';
export { loadConfig, resolvePreset } from './load-config.js';
export type { ServiceConfigDefinition } from './load-config.js';
