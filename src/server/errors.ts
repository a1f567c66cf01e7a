// Typed, coded errors. The codes and their HTTP statuses are the one table in protocol/errors.ts;
// the status comes from the code, never from the throw site, so every route reports the same
// failure the same way: {"error":{"code","message"}}.

import { errorStatus, type ErrorBody, type ErrorCode } from '../protocol/errors.js';

export { errorStatus, type ErrorCode };

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.status = errorStatus[code];
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const badRequest = (why: string, details?: unknown) => new AppError('VALIDATION_FAILED', why, details);

/** The body of every HTTP error reply (protocol ErrorBody). */
export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}
