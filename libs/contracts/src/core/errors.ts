import { z } from 'zod';

/**
 * Error codes carried in RPC error replies and HTTP error bodies. WARNING: wire names.
 * The gateway maps each to an HTTP status with {@link HTTP_STATUS_BY_CODE}.
 */
export const ERROR_CODES = [
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'rate_limited',
  'internal',
  'unavailable',
  'timeout',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const HTTP_STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  timeout: 504,
};

/** One invalid field: a dotted path (`points.3.value`) and what was wrong with it. */
export const fieldIssueSchema = z.object({ field: z.string(), message: z.string() });
export type FieldIssue = z.infer<typeof fieldIssueSchema>;

/** `{ error: { code, message, details? } }`: the body of every HTTP error and RPC error reply. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    details: z.array(fieldIssueSchema).optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Turns zod issues into {@link FieldIssue}s, prefixing paths with `prefix` (e.g. `body`). */
export function toFieldIssues(error: z.ZodError, prefix?: string): FieldIssue[] {
  return error.issues.map((i) => {
    const path = i.path.map(String).join('.');
    return { field: [prefix, path].filter(Boolean).join('.') || '(root)', message: i.message };
  });
}
