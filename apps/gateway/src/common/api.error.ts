import type { ErrorCode, FieldIssue } from '@conduit/contracts';

/** An error the gateway answers itself (before or instead of asking a service). */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: readonly FieldIssue[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
