import type { ErrorCode, FieldIssue } from '@conduit/contracts';

/**
 * An error that crosses a request/reply boundary with its code: thrown by handlers to answer
 * `{ ok: false, error }`, and thrown by the client for error replies, time-outs (`timeout`) and
 * missing responders (`unavailable`).
 */
export class RpcError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: readonly FieldIssue[],
  ) {
    super(message);
    this.name = 'RpcError';
  }
}
