import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/protocol/index.js';
import { buildRows } from './rows.js';

const msg = (seq: number, authorId: string, at: string, extra: Partial<Message> = {}): Message => ({
  id: `m${seq}`.padEnd(22, '0'),
  channelId: 'c'.repeat(22),
  seq,
  authorId,
  text: `t${seq}`,
  createdAt: at,
  editedAt: null,
  deletedAt: null,
  parentId: null,
  replyCount: 0,
  lastReplyAt: null,
  reactions: [],
  mentions: { userIds: [], channel: false, here: false },
  files: [],
  clientMsgId: null,
  ...extra,
});

describe('buildRows', () => {
  it('groups by author within 5 minutes, separates days, places the divider after readSeq, hides replies', () => {
    const rows = buildRows(
      [
        msg(1, 'ann', '2026-11-29T10:00:00Z'),
        msg(2, 'ann', '2026-11-29T10:01:00Z'),
        msg(3, 'bob', '2026-11-29T10:02:00Z'),
        msg(4, 'bob', '2026-11-29T10:03:00Z', { parentId: 'm3' }),
        msg(5, 'bob', '2026-11-30T09:00:00Z'),
        msg(6, 'bob', '2026-11-30T09:01:00Z'),
      ],
      5,
      'ann',
      [],
      new Date('2026-11-30T12:00:00Z'),
    );
    expect(rows.map((r) => (r.kind === 'message' ? `${r.message.seq}${r.grouped ? 'g' : ''}` : r.kind))).toEqual([
      'day',
      '1',
      '2g',
      '3',
      'day',
      '5',
      'divider',
      '6',
    ]);
    expect(rows[4]).toMatchObject({ kind: 'day', label: 'Today' });
  });
});
