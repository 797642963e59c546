import { z } from 'zod';

/** Presets select defaults; `production` has none for connection strings that must be explicit. */
export const PRESETS = ['production', 'development', 'test'] as const;
export type Preset = (typeof PRESETS)[number];

/** Parses an integer environment variable with bounds. */
export const envInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Parses `true|false|1|0|yes|no` (case-insensitive). */
export const envBool = () =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A URL whose scheme is one of `protocols` (e.g. `['postgres:', 'postgresql:']`). */
export const envUrl = (protocols: readonly string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `a URL with scheme ${protocols.map((p) => p.replace(/:$/, '')).join(' or ')}` },
  );

/** Comma-separated list of positive integers, e.g. `1000,5000,30000`. */
export const envIntList = () =>
  z
    .string()
    .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, 'a comma-separated list of integers')
    .transform((v) => v.split(',').map((s) => Number(s.trim())));
