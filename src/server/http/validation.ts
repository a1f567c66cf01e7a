// Ajv at the HTTP edge (the rules are shared with the WebSocket ops: lib/schema-check.ts). Two
// compilers: bodies are strict (no type coercion: "text": 123 is a 400, not "123"), query strings
// and params coerce ("limit=20" → 20). Neither removes unknown fields — fastify's default silently
// strips them; here every schema says additionalProperties:false and an unknown field is a 400.
import type { FastifySchemaCompiler } from 'fastify';
import { makeAjv, schemaError } from '../lib/schema-check.js';

/**
 * The router's limit on one path parameter (fastify routerOptions.maxParamLength). A longer one is
 * 400 VALIDATION_FAILED — also when the web client's catch-all route, not the router, meets it.
 */
export const MAX_PARAM_LENGTH = 200;

const bodyAjv = makeAjv(false);
const queryAjv = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema as object);
  const where = httpPart === 'body' ? 'body' : httpPart === 'querystring' ? 'query' : (httpPart ?? 'input');
  return (data: unknown) => (validate(data) ? { value: data } : { error: schemaError(where, validate.errors?.[0], httpPart === 'body') });
};
