// Ajv as both edges use it: HTTP bodies (http/validation.ts) and WebSocket ops
// (realtime/ops.ts) are checked by the same rules with the same error answers.
// Rules: no type coercion for bodies and ops ("text": 123 is refused, not "123"; query strings and
// path params coerce: "limit=20" → 20); unknown fields are never removed (every protocol object
// says additionalProperties:false, so one is refused); numbers must be finite; defaults applied.
import AjvModule, { type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { AppError } from '../errors.js';

const Ajv = AjvModule.default ?? AjvModule;
const addFormats = addFormatsModule.default ?? addFormatsModule;

export function makeAjv(coerce: boolean) {
  const ajv = new Ajv({
    allErrors: false,
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: coerce ? 'array' : false,
    strict: false,
    // Not for coerced query strings: Ajv coerces "Infinity" / "1e400" to Infinity and then, under
    // strictNumbers, skips minimum/maximum for the non-finite value, so limit=Infinity passed the
    // edge (test/http/paging.test.ts). Without it the bounds refuse it as before.
    strictNumbers: !coerce,
    unicodeRegExp: true,
  });
  addFormats(ajv, ['email', 'date-time']);
  return ajv;
}

/**
 * The coded error for the first schema failure of `where` (e.g. "body", "query", "send").
 * Message text over the schema's code-point cap is the failure the service reports for the byte
 * cap: one code, TEXT_TOO_LONG, for "too long", over REST and WebSocket alike.
 */
export function schemaError(where: string, e: ErrorObject | undefined, textField = true): AppError {
  if (textField && e?.keyword === 'maxLength' && e.instancePath === '/text') {
    return new AppError('TEXT_TOO_LONG', `${where}.text is over 16384 bytes`, { field: `${where}.text`, keyword: 'maxLength' });
  }
  const field = e?.instancePath ? `${where}${e.instancePath.replace(/\//g, '.')}` : where;
  const detail =
    e?.keyword === 'additionalProperties'
      ? `unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`
      : e?.keyword === 'pattern'
        ? 'has characters or a shape that is not allowed'
        : (e?.message ?? 'is invalid');
  return new AppError('VALIDATION_FAILED', `${field} ${detail}`, { field, keyword: e?.keyword });
}
