import { resolve } from 'node:path';

/**
 * The repository root. This file runs compiled from `dist/bench/src/`, three levels below it;
 * `.conduit/dev.env` and `bench/results/` are found from here.
 */
export const ROOT = resolve(import.meta.dirname, '../../..');
