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

/**
 * A write with NewMessage.checkAuthor found the channel missing or archived, or the author not a
 * member. Internal: the service turns it into the coded error its authorization read would give.
 */
export class SendRefused extends Error {
  constructor(readonly channelId: string) {
    super('send refused: no such channel, channel archived, or author not a member');
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const badRequest = (why: string, details?: unknown) => new AppError('VALIDATION_FAILED', why, details);

/** The body of every HTTP error reply (protocol ErrorBody). */
export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}
