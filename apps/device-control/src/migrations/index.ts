import { CreateDevices1764000000000 } from './1764000000000-create-devices.js';

/** The schema device-control owns; no other service reads it. */
export const DEVICE_SCHEMA = 'device';

/** Every migration of {@link DEVICE_SCHEMA}, oldest first. */
export const deviceControlMigrations = [CreateDevices1764000000000];
