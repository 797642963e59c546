import { CreateDevices1764000000000 } from './1764000000000-create-devices.js';
import { OnlineLastSeenIndex1764100100000 } from './1764100100000-online-last-seen-index.js';
import { CommandsSitesState1764200000000 } from './1764200000000-commands-sites-state.js';

/** The schema device-control owns; no other service reads it. */
export const DEVICE_SCHEMA = 'device';

/** Every migration of {@link DEVICE_SCHEMA}, oldest first. */
export const deviceControlMigrations = [
  CreateDevices1764000000000,
  OnlineLastSeenIndex1764100100000,
  CommandsSitesState1764200000000,
];
