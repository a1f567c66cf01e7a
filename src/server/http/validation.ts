// Ajv set-up for the HTTP edge. Two compilers: bodies are strict (no type coercion: "text": 123 is
// a 400, not "123"), query strings and params coerce ("limit=20" → 20). Neither removes unknown
// fields — fastify's default silently strips them; here every schema says additionalProperties:false
// and an unknown field is a 400.
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { AppError } from '../errors.js';

const Ajv = AjvModule.default ?? AjvModule;
const addFormats = addFormatsModule.default ?? addFormatsModule;

function make(coerce: boolean) {
  const ajv = new Ajv({ allErrors: false, removeAdditional: false, useDefaults: true, coerceTypes: coerce ? 'array' : false, strict: false, unicodeRegExp: true });
  addFormats(ajv, ['email', 'date-time']);
  return ajv;
}

const bodyAjv = make(false);
const queryAjv = make(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema as object);
  return (data: unknown) => {
    if (validate(data)) return { value: data };
    const e = validate.errors?.[0];
    // Message text over the schema's code-point cap is the same failure the service reports for
    // the byte cap (and the WebSocket send path reports for both): one code for "too long".
    if (httpPart === 'body' && e?.keyword === 'maxLength' && e.instancePath === '/text') {
      return { error: new AppError('TEXT_TOO_LONG', 'body.text is over 16384 bytes', { field: 'body.text', keyword: 'maxLength' }) };
    }
    const where = httpPart === 'body' ? 'body' : httpPart === 'querystring' ? 'query' : httpPart ?? 'input';
    const field = e?.instancePath ? `${where}${e.instancePath.replace(/\//g, '.')}` : where;
    const detail =
      e?.keyword === 'additionalProperties'
        ? `unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`
        : e?.keyword === 'pattern'
          ? 'has characters or a shape that is not allowed'
          : (e?.message ?? 'is invalid');
    return { error: new AppError('VALIDATION_FAILED', `${field} ${detail}`, { field, keyword: e?.keyword }) };
  };
};
