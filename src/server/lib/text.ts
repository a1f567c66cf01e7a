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

/**
 * Characters message text may not hold: C0 controls except tab, line feed and carriage return
 * (NUL, BEL, ESC … — terminal escapes in anyone's log viewer or CLI client), DEL, C1 controls
 * (U+0080–U+009F, which include the 8-bit CSI) and the bidi embeddings/overrides/isolates
 * (U+202A–U+202E, U+2066–U+2069: "Trojan Source" reordering of what others read). Each also
 * escapes to 6 bytes in JSON, so 16 KB of them made 96 KB history rows. Zero-width joiners and
 * the LRM/RLM marks stay allowed: real scripts and emoji sequences need them.
 * Names (protocol/fields.ts SAFE_TEXT) are stricter: no control character at all.
 */
const FORBIDDEN_IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

/** Message text: well-formed, ≤ 16 KiB in bytes, no forbidden control character, and not blank unless files are attached. */
export function checkMessageText(text: string, hasFiles: boolean): string {
  if (typeof text !== 'string') throw new AppError('VALIDATION_FAILED', 'text must be a string');
  if (!text.isWellFormed()) throw new AppError('INVALID_UNICODE', 'text is not well-formed Unicode');
  if (Buffer.byteLength(text, 'utf8') > MAX_MESSAGE_BYTES) throw new AppError('TEXT_TOO_LONG', `text is over ${MAX_MESSAGE_BYTES} bytes`);
  const bad = FORBIDDEN_IN_TEXT.exec(text);
  if (bad) {
    const codePoint = 'U+' + bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new AppError('VALIDATION_FAILED', `text contains a forbidden control character (${codePoint} at index ${bad.index})`, {
      codePoint,
      index: bad.index,
    });
  }
  if (!hasFiles && text.trim() === '') throw new AppError('VALIDATION_FAILED', 'text is empty');
  return text;
}
