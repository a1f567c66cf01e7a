import { notFound } from '../../errors.js';
import type { MessageStore } from '../store.js';
import type { CreateMessageResult, HistoryQuery, Mentions, Message, NewMessage, ReactionSummary } from '../types.js';
import { clampLimit, lazy, SqliteModule, type Db } from './db.js';
import type { SqliteNotifications } from './notifications.js';
import { MESSAGE_COLS, encodeList, groupReactions, toMessage, type MessageRow, type ReactionRow } from './rows.js';

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Upper bound of creates per group-commit transaction (bounds how long the write lock is held). */
const MAX_BATCH = 256;

interface Pending {
  input: NewMessage;
  resolve: (r: CreateMessageResult) => void;
  reject: (err: unknown) => void;
}
type Outcome = { ok: true; value: CreateMessageResult } | { ok: false; error: unknown };

const uniq = (ids: readonly string[]) => [...new Set(ids)];

export class SqliteMessages extends SqliteModule implements MessageStore {
  private readonly q = lazy(() => {
    const db = this.db;
    return {
      byClient: db.prepare(
        `SELECT ${MESSAGE_COLS} FROM messages WHERE channel_id = ? AND author_id = ? AND client_msg_id = ?`,
      ),
      nextSeq: db.prepare('UPDATE channels SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq').pluck(),
      insert: db.prepare(
        `INSERT INTO messages (id, channel_id, seq, author_id, text, created_at, parent_id,
                               mention_user_ids, mention_channel, mention_here, file_ids, client_msg_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertMention: db.prepare(
        'INSERT OR IGNORE INTO message_mentions (user_id, channel_id, seq, message_id) VALUES (?, ?, ?, ?)',
      ),
      deleteMentions: db.prepare('DELETE FROM message_mentions WHERE message_id = ?'),
      bumpParent: db.prepare('UPDATE messages SET reply_count = reply_count + 1, last_reply_at = ? WHERE id = ?'),
      authorRead: db.prepare(
        'UPDATE members SET read_seq = max(read_seq, ?) WHERE channel_id = ? AND user_id = ?',
      ),
      get: db.prepare(`SELECT ${MESSAGE_COLS} FROM messages WHERE id = ?`),
      // Both history shapes are range scans of the unique (channel_id, seq) index.
      newest: db.prepare(
        `SELECT ${MESSAGE_COLS} FROM messages WHERE channel_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
      ),
      oldest: db.prepare(
        `SELECT ${MESSAGE_COLS} FROM messages WHERE channel_id = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?`,
      ),
      thread: db.prepare(
        `SELECT ${MESSAGE_COLS} FROM messages WHERE parent_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?`,
      ),
      reactionsOf: db.prepare(
        'SELECT message_id, user_id, emoji FROM reactions WHERE message_id = ? ORDER BY created_at, user_id, emoji',
      ),
      // One query for a whole page.
      reactionsOfMany: db.prepare(
        `SELECT message_id, user_id, emoji FROM reactions WHERE message_id IN (SELECT value FROM json_each(?))
         ORDER BY created_at, user_id, emoji`,
      ),
      edit: db.prepare(
        `UPDATE messages SET text = ?, mention_user_ids = ?, mention_channel = ?, mention_here = ?, edited_at = ?
         WHERE id = ? AND deleted_at IS NULL RETURNING ${MESSAGE_COLS}`,
      ),
      // Deleting blanks everything that carried content (text, mentions, files) but keeps seq.
      softDelete: db.prepare(
        `UPDATE messages SET text = '', deleted_at = ?, mention_user_ids = NULL, mention_channel = 0, mention_here = 0,
           file_ids = NULL
         WHERE id = ? AND deleted_at IS NULL RETURNING ${MESSAGE_COLS}`,
      ),
      deleteReactions: db.prepare('DELETE FROM reactions WHERE message_id = ?'),
      addReaction: db.prepare(
        `INSERT INTO reactions (message_id, user_id, emoji, created_at)
         SELECT @messageId, @userId, @emoji, @at WHERE EXISTS (SELECT 1 FROM messages WHERE id = @messageId AND deleted_at IS NULL)
         ON CONFLICT (message_id, user_id, emoji) DO NOTHING`,
      ),
      removeReaction: db.prepare('DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?'),
    };
  });

  private readonly createTx = this.db.transaction((input: NewMessage): CreateMessageResult => {
    const q = this.q();
    if (input.clientMsgId !== null) {
      const existing = q.byClient.get(input.channelId, input.authorId, input.clientMsgId) as MessageRow | undefined;
      if (existing) return { message: this.withReactions(existing), created: false, notifications: [] };
    }
    const seq = q.nextSeq.get(input.channelId) as number | undefined;
    if (seq === undefined) throw notFound('channel');
    const mentionIds = uniq(input.mentions.userIds);
    q.insert.run(
      input.id,
      input.channelId,
      seq,
      input.authorId,
      input.text,
      input.createdAt,
      input.parentId,
      encodeList(mentionIds),
      input.mentions.channel ? 1 : 0,
      input.mentions.here ? 1 : 0,
      encodeList(input.fileIds),
      input.clientMsgId,
    );
    for (const u of mentionIds) q.insertMention.run(u, input.channelId, seq, input.id);
    const notifications = this.notifications.createForMessage(input, seq);
    if (input.parentId !== null) q.bumpParent.run(input.createdAt, input.parentId);
    q.authorRead.run(seq, input.channelId, input.authorId);
    const message: Message = {
      id: input.id,
      channelId: input.channelId,
      seq,
      authorId: input.authorId,
      text: input.text,
      createdAt: input.createdAt,
      editedAt: null,
      deletedAt: null,
      parentId: input.parentId,
      replyCount: 0,
      lastReplyAt: null,
      reactions: [],
      mentions: { userIds: mentionIds, channel: input.mentions.channel, here: input.mentions.here },
      files: [...input.fileIds],
      clientMsgId: input.clientMsgId,
    };
    return { message, created: true, notifications };
  });

  private readonly updateTx = this.db.transaction(
    (id: string, text: string, mentions: Mentions, at: string): Message | undefined => {
      const q = this.q();
      const mentionIds = uniq(mentions.userIds);
      const row = q.edit.get(text, encodeList(mentionIds), mentions.channel ? 1 : 0, mentions.here ? 1 : 0, at, id) as
        | MessageRow
        | undefined;
      if (!row) return undefined;
      q.deleteMentions.run(id);
      for (const u of mentionIds) q.insertMention.run(u, row.channel_id, row.seq, id);
      return this.withReactions(row);
    },
  );

  private readonly deleteTx = this.db.transaction((id: string, at: string): Message | undefined => {
    const q = this.q();
    const row = q.softDelete.get(at, id) as MessageRow | undefined;
    if (!row) {
      // Missing, or already deleted (idempotent: return it as it is).
      const current = q.get.get(id) as MessageRow | undefined;
      return current && toMessage(current, []);
    }
    q.deleteReactions.run(id);
    q.deleteMentions.run(id);
    return toMessage(row, []);
  });

  private pending: Pending[] = [];
  private flushScheduled = false;

  private readonly batchTx = this.db.transaction((batch: Pending[]): Outcome[] =>
    batch.map((p): Outcome => {
      try {
        // Nested transaction function: better-sqlite3 runs it as a SAVEPOINT.
        return { ok: true, value: this.createTx(p.input) };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );

  constructor(
    db: Db,
    private readonly notifications: SqliteNotifications,
  ) {
    super(db);
  }

  private withReactions(row: MessageRow): Message {
    const rows = this.q().reactionsOf.all(row.id) as ReactionRow[];
    return toMessage(row, rows.length ? (groupReactions(rows).get(row.id) ?? []) : []);
  }

  private withReactionsMany(rows: MessageRow[]): Message[] {
    if (rows.length === 0) return [];
    const reactionRows = this.q().reactionsOfMany.all(JSON.stringify(rows.map((r) => r.id))) as ReactionRow[];
    const byMessage = reactionRows.length ? groupReactions(reactionRows) : undefined;
    return rows.map((r) => toMessage(r, byMessage?.get(r.id) ?? ([] as ReactionSummary[])));
  }

  /**
   * Group commit: calls made before the event loop's next check phase share one transaction
   * (one WAL append instead of one per message). Each call runs in its own savepoint, so one
   * call's failure rolls back only its own writes; seqs follow call order.
   */
  create(input: NewMessage): Promise<CreateMessageResult> {
    return new Promise<CreateMessageResult>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flushPending);
      }
    });
  }

  /** Commits every queued create now (close() calls this before checkpointing). */
  readonly flushPending = (): void => {
    this.flushScheduled = false;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      if (batch.length === 1) {
        const [one] = batch;
        try {
          one.resolve(this.createTx.immediate(one.input));
        } catch (err) {
          one.reject(err);
        }
        continue;
      }
      let outcomes: Outcome[];
      try {
        outcomes = this.batchTx.immediate(batch);
      } catch (err) {
        for (const p of batch) p.reject(err);
        continue;
      }
      // Settled only after COMMIT: nobody hears of a message that could still roll back.
      outcomes.forEach((o, i) => (o.ok ? batch[i].resolve(o.value) : batch[i].reject(o.error)));
    }
  };

  async get(id: string): Promise<Message | undefined> {
    const row = this.q().get.get(id) as MessageRow | undefined;
    return row && this.withReactions(row);
  }

  async history(channelId: string, hq: HistoryQuery): Promise<Message[]> {
    const limit = clampLimit(hq.limit);
    const before = Number.isFinite(hq.before) ? Math.floor(hq.before as number) : MAX_SEQ;
    const rows =
      hq.after !== undefined && Number.isFinite(hq.after)
        ? (this.q().oldest.all(channelId, Math.floor(hq.after), before, limit) as MessageRow[])
        : (this.q().newest.all(channelId, before, limit) as MessageRow[]);
    return this.withReactionsMany(rows);
  }

  async thread(rootId: string, limit: number, afterSeq = 0): Promise<Message[]> {
    const after = Number.isFinite(afterSeq) ? Math.floor(afterSeq) : 0;
    const rows = this.q().thread.all(rootId, after, clampLimit(limit)) as MessageRow[];
    return this.withReactionsMany(rows);
  }

  async update(id: string, text: string, mentions: NewMessage['mentions'], at: string): Promise<Message | undefined> {
    return this.updateTx.immediate(id, text, mentions, at);
  }

  async softDelete(id: string, at: string): Promise<Message | undefined> {
    return this.deleteTx.immediate(id, at);
  }

  async addReaction(messageId: string, userId: string, emoji: string, at: string): Promise<boolean> {
    return this.q().addReaction.run({ messageId, userId, emoji, at }).changes === 1;
  }

  async removeReaction(messageId: string, userId: string, emoji: string): Promise<boolean> {
    return this.q().removeReaction.run(messageId, userId, emoji).changes === 1;
  }
}
