// Turns a channel's messages into the rows the list shows: day separators, the "new messages"
// divider after the read position, and messages grouped by author (a follow-up within 5 minutes
// from the same author on the same day shows no header). Thread replies live in the thread panel.
import type { Message } from '../../src/protocol/index.js';
import type { Pending } from './realtime.js';

export type Row =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'divider'; key: string }
  | { kind: 'message'; key: string; message: Message; grouped: boolean }
  | { kind: 'pending'; key: string; pending: Pending };

const GROUP_MS = 5 * 60_000;

export function dayLabel(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const same = (a: Date, b: Date) => a.toDateString() === b.toDateString();
  if (same(d, now)) return 'Today';
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (same(d, y)) return 'Yesterday';
  return d.toLocaleDateString(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

/** Per message object: its local day and time, parsed once (buildRows runs on every list change). */
const parsed = new WeakMap<Message, { day: string; t: number }>();
function when(m: Message): { day: string; t: number } {
  let w = parsed.get(m);
  if (!w) {
    const d = new Date(m.createdAt);
    w = { day: d.toDateString(), t: d.getTime() };
    parsed.set(m, w);
  }
  return w;
}

export function buildRows(
  messages: Message[],
  dividerSeq: number | null,
  meId: string | undefined,
  pending: Pending[],
  now = new Date(),
): Row[] {
  const rows: Row[] = [];
  let prev: Message | null = null;
  let divided = false;
  for (const m of messages) {
    if (m.parentId) continue;
    const w = when(m);
    const newDay = !prev || when(prev).day !== w.day;
    if (newDay) rows.push({ kind: 'day', key: `d${w.day}`, label: dayLabel(m.createdAt, now) });
    let broke = false;
    if (!divided && dividerSeq !== null && m.seq > dividerSeq && m.authorId !== meId) {
      rows.push({ kind: 'divider', key: 'new' });
      divided = broke = true;
    }
    const grouped = !newDay && !broke && prev !== null && prev.authorId === m.authorId && !prev.deletedAt && w.t - when(prev).t < GROUP_MS;
    rows.push({ kind: 'message', key: m.id, message: m, grouped });
    prev = m;
  }
  for (const p of pending) if (!p.parentId) rows.push({ kind: 'pending', key: p.clientMsgId, pending: p });
  return rows;
}
