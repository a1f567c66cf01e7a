import { AppError, notFound, SendRefused } from '../../errors.js';
import type { MessageStore, ReactionLimits } from '../store.js';
import type { CreateMessageResult, HistoryQuery, Mentions, Message, NewMessage, ReactionSummary } from '../types.js';
import { lazy, SqliteModule, type Db } from './db.js';
import { pageLimit, seqCursor } from '../paging.js';
import type { SqliteFiles } from './files.js';
import type { SqliteNotifications } from './notifications.js';
import { M, MESSAGE_COLS, encodeList, groupReactions, insertedMessage, toMessage, type MessageRow, type ReactionRow } from './rows.js';

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Upper bound of creates per group-commit transaction (bounds how long the write lock is held). */
const MAX_BATCH = 256;

interface Pending {
  input: NewMessage;
  resolve: (r: CreateMessageResult) => void;
  reject: (err: unknown) => void;
}

const uniq = (ids: readonly string[]) => [...new Set(ids)];

export class SqliteMessages extends SqliteModule implements MessageStore {
  private readonly q = lazy(() => {
    const db = this.db;
    return {
      byClient: db.prepare(`SELECT ${MESSAGE_COLS} FROM messages WHERE channel_id = ? AND author_id = ? AND client_msg_id = ?`).raw(),
      // NewMessage.checkAuthor: the channel exists, is not archived, and the author is a member.
      mayWrite: db
        .prepare(
          'SELECT 1 FROM channels c JOIN members m ON m.channel_id = c.id AND m.user_id = ? WHERE c.id = ? AND c.archived_at IS NULL',
        )
        .pluck(),
      nextSeq: db.prepare('UPDATE channels SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq').pluck(),
      insert: db.prepare(
        `INSERT INTO messages (id, channel_id, seq, author_id, text, created_at, parent_id,
                               mention_user_ids, mention_channel, mention_here, files, client_msg_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertMention: db.prepare('INSERT OR IGNORE INTO message_mentions (user_id, channel_id, seq, message_id) VALUES (?, ?, ?, ?)'),
      // By the message's own mention list (JSON), through the primary key.
      deleteMentions: db.prepare(
        `DELETE FROM message_mentions
         WHERE user_id IN (SELECT value FROM json_each(?)) AND channel_id = ? AND seq = ?`,
      ),
      bumpParent: db.prepare('UPDATE messages SET reply_count = reply_count + 1, last_reply_at = ? WHERE id = ?'),
      authorRead: db.prepare('UPDATE members SET read_seq = max(read_seq, ?) WHERE channel_id = ? AND user_id = ?'),
      get: db.prepare(`SELECT ${MESSAGE_COLS} FROM messages WHERE id = ?`).raw(),
      channelOf: db.prepare('SELECT channel_id FROM messages WHERE id = ?').pluck(),
      // Changes when another connection (the bulk loader, an operator's sqlite3) commits.
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
      // Both history shapes are range scans of the (channel_id, seq) primary key (clustered).
      newest: db.prepare(`SELECT ${MESSAGE_COLS} FROM messages WHERE channel_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`).raw(),
      oldest: db
        .prepare(`SELECT ${MESSAGE_COLS} FROM messages WHERE channel_id = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?`)
        .raw(),
      thread: db.prepare(`SELECT ${MESSAGE_COLS} FROM messages WHERE parent_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?`).raw(),
      reactionsOf: db.prepare('SELECT message_id, user_id, emoji FROM reactions WHERE message_id = ? ORDER BY created_at, user_id, emoji'),
      // One query for a whole page.
      reactionsOfMany: db.prepare(
        `SELECT message_id, user_id, emoji FROM reactions WHERE message_id IN (SELECT value FROM json_each(?))
         ORDER BY created_at, user_id, emoji`,
      ),
      edit: db
        .prepare(
          `UPDATE messages SET text = ?, mention_user_ids = ?, mention_channel = ?, mention_here = ?, edited_at = ?
         WHERE channel_id = ? AND seq = ? RETURNING ${MESSAGE_COLS}`,
        )
        .raw(),
      // Deleting blanks everything that carried content (text, mentions, files) but keeps seq.
      softDelete: db
        .prepare(
          `UPDATE messages SET text = '', deleted_at = ?, mention_user_ids = NULL, mention_channel = 0, mention_here = 0,
           files = NULL
         WHERE channel_id = ? AND seq = ? RETURNING ${MESSAGE_COLS}`,
        )
        .raw(),
      deleteReactions: db.prepare('DELETE FROM reactions WHERE message_id = ?'),
      addReaction: db.prepare(
        `INSERT INTO reactions (message_id, user_id, emoji, created_at)
         SELECT @messageId, @userId, @emoji, @at WHERE EXISTS (SELECT 1 FROM messages WHERE id = @messageId AND deleted_at IS NULL)
         ON CONFLICT (message_id, user_id, emoji) DO NOTHING`,
      ),
      removeReaction: db.prepare('DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?'),
      // Both counts walk the (message_id, user_id, emoji) primary key.
      reactionCounts: db.prepare(
        `SELECT (SELECT count(*) FROM reactions WHERE message_id = @messageId AND user_id = @userId) AS mine,
                EXISTS (SELECT 1 FROM reactions WHERE message_id = @messageId AND emoji = @emoji) AS known,
                EXISTS (SELECT 1 FROM reactions WHERE message_id = @messageId AND user_id = @userId AND emoji = @emoji) AS already,
                (SELECT count(DISTINCT emoji) FROM reactions WHERE message_id = @messageId) AS emojis`,
      ),
    };
  });

  /** The body of one send. Runs inside a transaction opened by the caller. */
  private createOne(input: NewMessage): CreateMessageResult {
    const q = this.q();
    // First, before anything is written: batchTx relies on a refusal leaving the transaction as it was.
    if (input.checkAuthor && q.mayWrite.get(input.authorId, input.channelId) === undefined) throw new SendRefused(input.channelId);
    if (input.clientMsgId !== null) {
      const existing = q.byClient.get(input.channelId, input.authorId, input.clientMsgId) as MessageRow | undefined;
      if (existing) return { message: this.withReactions(existing), created: false, notifications: [] };
    }
    const seq = q.nextSeq.get(input.channelId) as number | undefined;
    if (seq === undefined) throw notFound('channel');
    const mentionIds = uniq(input.mentions.userIds);
    // Attaching first: a file that does not qualify throws before anything of this send is written.
    const files = input.fileIds.length
      ? this.files.attach(input.id, input.channelId, input.authorId, input.fileIds, input.createdAt)
      : undefined;
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
      files ? JSON.stringify(files) : null,
      input.clientMsgId,
    );
    for (const u of mentionIds) q.insertMention.run(u, input.channelId, seq, input.id);
    const notifications = this.notifications.createForMessage(input, seq);
    if (input.parentId !== null) q.bumpParent.run(input.createdAt, input.parentId);
    q.authorRead.run(seq, input.channelId, input.authorId);
    // The reply counter of a root is in the same channel: one touch covers both.
    this.touch(input.channelId);
    const message = insertedMessage(input, seq, mentionIds);
    if (files) message.files = files;
    return { message, created: true, notifications };
  }

  private readonly createTx = this.db.transaction((input: NewMessage) => this.createOne(input));

  private readonly updateTx = this.db.transaction((id: string, text: string, mentions: Mentions, at: string): Message | undefined => {
    const q = this.q();
    const old = q.get.get(id) as MessageRow | undefined;
    if (!old || old[M.deletedAt] !== null) return undefined;
    const mentionIds = uniq(mentions.userIds);
    if (old[M.mentionUserIds]) q.deleteMentions.run(old[M.mentionUserIds], old[M.channelId], old[M.seq]);
    const row = q.edit.get(
      text,
      encodeList(mentionIds),
      mentions.channel ? 1 : 0,
      mentions.here ? 1 : 0,
      at,
      old[M.channelId],
      old[M.seq],
    ) as MessageRow;
    for (const u of mentionIds) q.insertMention.run(u, row[M.channelId], row[M.seq], id);
    this.touch(row[M.channelId]);
    this.edits++;
    return this.withReactions(row);
  });

  private readonly deleteTx = this.db.transaction((id: string, at: string): Message | undefined => {
    const q = this.q();
    const old = q.get.get(id) as MessageRow | undefined;
    if (!old) return undefined;
    // Already deleted: idempotent, returned as it is.
    if (old[M.deletedAt] !== null) return toMessage(old, []);
    if (old[M.mentionUserIds]) q.deleteMentions.run(old[M.mentionUserIds], old[M.channelId], old[M.seq]);
    q.deleteReactions.run(id);
    if (old[M.files]) this.files.detach(id);
    this.touch(old[M.channelId]);
    this.edits++;
    return toMessage(q.softDelete.get(at, old[M.channelId], old[M.seq]) as MessageRow, []);
  });

  private pending: Pending[] = [];
  private flushScheduled = false;

  /**
   * A batch runs without savepoints (they cost as much as the inserts): if any send in it throws,
   * the whole transaction rolls back and every send of the batch is retried in its own
   * transaction, so one bad send never takes the others down and never leaves partial writes.
   */
  private readonly batchTx = this.db.transaction((batch: Pending[]): (CreateMessageResult | SendRefused)[] =>
    batch.map((p) => {
      try {
        return this.createOne(p.input);
      } catch (err) {
        // A refused send has written nothing (createOne checks first): the batch goes on without it.
        if (err instanceof SendRefused) return err;
        throw err;
      }
    }),
  );

  /**
   * `committed(n)` runs after every group commit that inserted n new messages (not idempotent
   * replays): the search indexer indexes them after the commit (search-indexer.ts).
   */
  constructor(
    db: Db,
    private readonly notifications: SqliteNotifications,
    private readonly files: SqliteFiles,
    private readonly committed: (n: number) => void = () => {},
  ) {
    super(db);
  }

  /**
   * historyVersion's state. Every write through this connection that changes how a message
   * renders calls touch() for its channel in the same synchronous step as the write (inside its
   * transaction, or right after a single autocommit statement for reactions), so no request on
   * this thread can read the new page under the old version; a rolled-back write has only made a
   * version stale, which costs a page read. One entry per channel ever written since start.
   */
  private clock = 0;
  private readonly versions = new Map<string, number>();

  private touch(channelId: string): void {
    this.versions.set(channelId, ++this.clock);
  }

  /**
   * Edits and soft deletes made through this connection, counted inside their transactions: the
   * search text caches are cleared when it moves (search-texts.ts). Never goes down.
   */
  private edits = 0;

  textEpoch(): number {
    return this.edits;
  }

  private touchMessage(messageId: string): void {
    const channelId = this.q().channelOf.get(messageId) as string | undefined;
    if (channelId !== undefined) this.touch(channelId);
  }

  async historyVersion(channelId: string): Promise<string> {
    return `${this.q().dataVersion.get() as number}.${this.versions.get(channelId) ?? 0}`;
  }

  private withReactions(row: MessageRow): Message {
    const rows = this.q().reactionsOf.all(row[M.id]) as ReactionRow[];
    return toMessage(row, rows.length ? (groupReactions(rows).get(row[M.id]) ?? []) : []);
  }

  private withReactionsMany(rows: MessageRow[]): Message[] {
    if (rows.length === 0) return [];
    const reactionRows = this.q().reactionsOfMany.all(JSON.stringify(rows.map((r) => r[M.id]))) as ReactionRow[];
    const byMessage = reactionRows.length ? groupReactions(reactionRows) : undefined;
    return rows.map((r) => toMessage(r, byMessage?.get(r[M.id]) ?? ([] as ReactionSummary[])));
  }

  /**
   * Group commit: calls made before the event loop's next check phase share one transaction
   * (one WAL append instead of one per message); seqs follow call order. A failing send fails
   * alone (see batchTx).
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
    let created = 0;
    const settle = (p: Pending, r: CreateMessageResult) => {
      if (r.created) created++;
      p.resolve(r);
    };
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      if (batch.length === 1) {
        const [one] = batch;
        try {
          settle(one, this.createTx.immediate(one.input));
        } catch (err) {
          one.reject(err);
        }
        continue;
      }
      let results: (CreateMessageResult | SendRefused)[] | undefined;
      try {
        results = this.batchTx.immediate(batch);
      } catch {
        results = undefined;
      }
      if (results) {
        // Settled only after COMMIT: nobody hears of a message that could still roll back.
        for (let i = 0; i < batch.length; i++) {
          const r = results[i];
          if (r instanceof SendRefused) batch[i].reject(r);
          else settle(batch[i], r);
        }
        continue;
      }
      for (const p of batch) {
        try {
          settle(p, this.createTx.immediate(p.input));
        } catch (err) {
          p.reject(err);
        }
      }
    }
    if (created) this.committed(created);
  };

  async get(id: string): Promise<Message | undefined> {
    const row = this.q().get.get(id) as MessageRow | undefined;
    return row && this.withReactions(row);
  }

  async history(channelId: string, hq: HistoryQuery): Promise<Message[]> {
    const limit = pageLimit('history', hq.limit);
    const before = seqCursor('history', 'before', hq.before) ?? MAX_SEQ;
    const after = seqCursor('history', 'after', hq.after);
    const rows =
      after !== undefined
        ? (this.q().oldest.all(channelId, after, before, limit) as MessageRow[])
        : (this.q().newest.all(channelId, before, limit) as MessageRow[]);
    return this.withReactionsMany(rows);
  }

  async thread(rootId: string, limit: number, afterSeq?: number): Promise<Message[]> {
    const after = seqCursor('thread', 'afterSeq', afterSeq) ?? 0;
    const rows = this.q().thread.all(rootId, after, pageLimit('thread', limit)) as MessageRow[];
    return this.withReactionsMany(rows);
  }

  async update(id: string, text: string, mentions: NewMessage['mentions'], at: string): Promise<Message | undefined> {
    return this.updateTx.immediate(id, text, mentions, at);
  }

  async softDelete(id: string, at: string): Promise<Message | undefined> {
    return this.deleteTx.immediate(id, at);
  }

  async addReaction(messageId: string, userId: string, emoji: string, at: string, limits?: ReactionLimits): Promise<boolean> {
    const added = limits
      ? this.limitedReactionTx.immediate({ messageId, userId, emoji, at }, limits)
      : this.q().addReaction.run({ messageId, userId, emoji, at }).changes === 1;
    if (added) this.touchMessage(messageId);
    return added;
  }

  /** Counts and insert in one write transaction: no other write can slip between them. */
  private readonly limitedReactionTx = this.db.transaction(
    (r: { messageId: string; userId: string; emoji: string; at: string }, limits: ReactionLimits): boolean => {
      const q = this.q();
      const c = q.reactionCounts.get({ messageId: r.messageId, userId: r.userId, emoji: r.emoji }) as {
        mine: number;
        known: number;
        emojis: number;
        already: number;
      };
      // An existing reaction is "already there" (false), never over the limit.
      if (c.already) return false;
      if (c.mine >= limits.perUser)
        throw new AppError('LIMIT_REACHED', `at most ${limits.perUser} reactions per person on a message`, { limit: limits.perUser });
      if (!c.known && c.emojis >= limits.perMessage)
        throw new AppError('LIMIT_REACHED', `at most ${limits.perMessage} different emoji on a message`, { limit: limits.perMessage });
      return q.addReaction.run(r).changes === 1;
    },
  );

  async removeReaction(messageId: string, userId: string, emoji: string): Promise<boolean> {
    const removed = this.q().removeReaction.run(messageId, userId, emoji).changes === 1;
    if (removed) this.touchMessage(messageId);
    return removed;
  }
}
