// Decoding of client frames into typed ops (protocol/ws.ts ClientOps), by the rules HTTP bodies
// follow (lib/schema-check.ts): unknown fields refused, no coercion, finite numbers, sizes, then
// well-formed Unicode. One validator per op, compiled once at import; a frame is checked against
// its own op's validator only (found by `op`), never against the union of all ops, so the cost of
// a `send` is the cost of the send schema.
import type { ValidateFunction } from 'ajv';
import { ClientOps, type ClientOp } from '../../protocol/ws.js';
import { AppError } from '../errors.js';
import { assertWellFormed } from '../lib/text.js';
import { makeAjv, schemaError } from '../lib/schema-check.js';

const ajv = makeAjv(false);
const validators = new Map<string, ValidateFunction>(
  Object.entries(ClientOps).map(([name, schema]) => [name, ajv.compile(schema as object)]),
);

/**
 * The client's `ref` for an error this frame causes: its `ref`, else its clientMsgId, else its
 * channelId, else its op — whichever is first a non-empty, well-formed string of at most 200
 * characters (so what is echoed is bounded and valid Unicode).
 */
export function refOf(f: Record<string, unknown>): string | undefined {
  return str(f.ref) ?? str(f.clientMsgId) ?? str(f.channelId) ?? str(f.op);
}

/** The typed op of a parsed JSON object, or throws the coded error (VALIDATION_FAILED, UNKNOWN_OP, TEXT_TOO_LONG, INVALID_UNICODE). */
export function decodeOp(f: Record<string, unknown>): ClientOp {
  const op = f.op;
  if (typeof op !== 'string') throw new AppError('VALIDATION_FAILED', 'missing "op"');
  const validate = validators.get(op);
  if (!validate) throw new AppError('UNKNOWN_OP', `unknown op "${op.slice(0, 40)}"`);
  if (!validate(f)) throw schemaError(op, validate.errors?.[0]);
  wellFormed(f, op);
  return f as ClientOp;
}

/**
 * assertWellFormed over a frame the schema has passed: its keys are the schema's own names, so
 * only values need a look, and the shape is bounded (no deep nesting left to walk). Top-level
 * strings are checked inline — a `send` is four of them — and nested values (resume positions,
 * fileIds) by the generic walk.
 */
function wellFormed(f: Record<string, unknown>, op: string): void {
  for (const k in f) {
    const v = f[k];
    if (typeof v === 'string') {
      if (!v.isWellFormed()) throw new AppError('INVALID_UNICODE', `${op}.${k}: not well-formed Unicode (lone surrogate)`);
    } else if (typeof v === 'object' && v !== null) assertWellFormed(v, `${op}.${k}`, 1);
  }
}

const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 && v.length <= 200 && v.isWellFormed() ? v : undefined;
