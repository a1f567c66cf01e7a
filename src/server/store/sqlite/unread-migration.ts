// Migration 0011_unread (issue 14): GET /api/channels counts @channel/@here mentions among a
// member's unread messages. This partial index holds only those messages, so the count is a range
// of it (at most UNREAD_COUNT_CAP rows) instead of a scan of every unread message. Inserts of other
// messages only evaluate the WHERE. listForUser names it (INDEXED BY): without ANALYZE statistics
// the planner prefers the primary key range.
export const unreadMigrationSqlite = `
CREATE INDEX messages_broadcast ON messages (channel_id, seq) WHERE mention_channel = 1 OR mention_here = 1;
`;
