// Migration 0011_unread (issue 14): GET /api/channels counts @channel/@here mentions among a
// member's unread messages. This partial index holds only those messages, so the count is a range
// of it (at most UNREAD_COUNT_CAP rows) instead of a scan of every unread message. Inserts of other
// messages only evaluate the WHERE. (Plain CREATE INDEX: migrations run in a transaction, and the
// index is small: one entry per broadcast message.)
export const unreadMigrationPostgres = `
CREATE INDEX messages_broadcast_idx ON messages (channel_id, seq) INCLUDE (author_id, deleted_at)
  WHERE mention_channel OR mention_here;
`;
