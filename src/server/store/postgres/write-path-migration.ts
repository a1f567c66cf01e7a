// Migration 0009_pg_write_path (issue 14), PostgreSQL only (SQLite: nothing to do, same id).
//
// Drops the two foreign keys that every send checked row by row, at the end of the send statement:
// - messages.channel_id → channels(id): an RI trigger per inserted message (an SPI query on
//   channels), plus a KEY SHARE lock, i.e. one more WAL record, on each channel row of the batch.
// - message_mentions.message_id → messages(id): an RI query per mention row, and a KEY SHARE lock
//   that rewrites the just-inserted message's tuple header (one more WAL record per mention).
// Measured (scratch databases, one connection, batches of 32, 20% of messages with a mention, send
// statement alone): ~250 → ~211 µs of backend CPU per message (medians of 5 alternated rounds).
//
// Nothing can dangle without them, as for the user foreign keys left out in 0001 (migrations.ts):
// - a message row is written only by the send statement (message-sql.ts), which inserts exactly
//   the messages whose channel row it has just locked and updated (last_seq) in the same statement,
//   and by the seed loader (bulk.ts) for channels it created; channels are never deleted;
// - a mention row is written with its message (send statement, bulk.ts) or from the message row
//   being edited (messages.ts update); messages are never deleted (soft delete keeps the row).
// reactions.message_id keeps its foreign key: reactions are not the hot path.
export const writePathMigrationPostgres = `
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_channel_id_fkey;
ALTER TABLE message_mentions DROP CONSTRAINT IF EXISTS message_mentions_message_id_fkey;
`;
