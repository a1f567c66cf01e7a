// The page rule every store keeps, in one place (both backends call these before any SQL):
//
// - `limit` must be an integer in 1..PAGE_LIMITS[read].max (protocol/paging.ts, the same table
//   the REST schemas take their bounds from). The store never clamps, rounds or replaces a value.
// - A seq cursor (`before`, `after`, thread `afterSeq`) is undefined (absent) or an integer in
//   0..MAX_SAFE_INTEGER.
// - String cursors (username, channel name, user id, notification id) are positions in a key
//   order: any string is valid and simply starts the page after it.
//
// A value outside the rule is a programming error, not user input: the HTTP edge answers
// 400 VALIDATION_FAILED from the protocol schemas before a store is called, so here it throws a
// RangeError (a 500 if it ever reaches a client) rather than returning some other page.
import { PAGE_LIMITS, type PagedRead } from '../../protocol/paging.js';

export { PAGE_LIMITS, type PagedRead };

/** Returns `limit` unchanged when it is an integer in 1..max for this read; throws otherwise. */
export function pageLimit(read: PagedRead, limit: number): number {
  const max = PAGE_LIMITS[read].max;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new RangeError(`store ${read}: limit must be an integer in 1..${max}, got ${shown(limit)}`);
  }
  return limit;
}

/** Returns the seq cursor unchanged when absent or an integer in 0..MAX_SAFE_INTEGER; throws otherwise. */
export function seqCursor(read: PagedRead, name: string, seq: number | undefined): number | undefined {
  if (seq === undefined) return undefined;
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new RangeError(`store ${read}: ${name} must be an integer ≥ 0, got ${shown(seq)}`);
  }
  return seq;
}

const shown = (v: unknown) => (typeof v === 'number' ? String(v) : `${typeof v} ${JSON.stringify(v)}`);
