// Input rules JSON Schema cannot express: UTF-8 byte limits and well-formed Unicode.
import { AppError } from '../errors.js';

/** Message text limit in UTF-8 bytes (the contract: 16 KB). */
export const MAX_MESSAGE_BYTES = 16 * 1024;

/** Throws INVALID_UNICODE when any string inside `value` holds a lone surrogate. */
export function assertWellFormed(value: unknown, path = 'body', depth = 0): void {
  if (depth > 32) throw new AppError('VALIDATION_FAILED', `${path}: nested too deeply`);
  if (typeof value === 'string') {
    if (!value.isWellFormed()) throw new AppError('INVALID_UNICODE', `${path}: not well-formed Unicode (lone surrogate)`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertWellFormed(v, `${path}[${i}]`, depth + 1));
    return;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      assertWellFormed(k, `${path} key`, depth + 1);
      assertWellFormed(v, `${path}.${k}`, depth + 1);
    }
  }
}

/** Message text: well-formed, ≤ 16 KiB in bytes, and not blank unless files are attached. */
export function checkMessageText(text: string, hasFiles: boolean): string {
  if (typeof text !== 'string') throw new AppError('VALIDATION_FAILED', 'text must be a string');
  if (!text.isWellFormed()) throw new AppError('INVALID_UNICODE', 'text is not well-formed Unicode');
  if (Buffer.byteLength(text, 'utf8') > MAX_MESSAGE_BYTES) throw new AppError('TEXT_TOO_LONG', `text is over ${MAX_MESSAGE_BYTES} bytes`);
  if (text.includes('\u0000')) throw new AppError('VALIDATION_FAILED', 'text contains a NUL character');
  if (!hasFiles && text.trim() === '') throw new AppError('VALIDATION_FAILED', 'text is empty');
  return text;
}
