import type pg from 'pg';
import { AppError } from '../../errors.js';
import type { MessageStore, ReactionLimits } from '../store.js';
import type { CreateMessageResult, HistoryQuery, Message, NewMessage } from '../types.js';
import { tx, type Queryable } from './db.js';
import { pageLimit, seqCursor } from '../paging.js';
import { groupReactions, MESSAGE_COLS, toMessage, type MessageRow } from './rows.js';
import { MessageWriter } from './message-create.js';
import type { PostgresFiles } from './files.js';

export class PostgresMessages implements MessageStore {
  private readonly writer: MessageWriter;

  /** @param sendPool the group-commit writer's own pool; its size is the number of batches in flight. */
  constructor(
    private readonly pool: pg.Pool,
    sendPool: pg.Pool,
    private readonly files: PostgresFiles,
  ) {
    this.writer = new MessageWriter(sendPool, (c, a, k) => this.getByClientMsgId(c, a, k), sendPool.options.max ?? 1);
  }

  /**
   * Group-committed on the send pool: batching and retries in message-create.ts, the statement in
   * message-sql.ts. A message with files goes through files.ts sendWithFiles (its files' rows read
   * first, for the snapshot), then joins the batches like any other.
   */
  create(input: NewMessage): Promise<CreateMessageResult> {
    if (input.fileIds?.length) return this.files.sendWithFiles(input, this.writer, (c, a, k) => this.getByClientMsgId(c, a, k));
    return this.writer.create(input);
  }

  async get(id: string): Promise<Message | undefined> {
    const r = await this.pool.query<MessageRow>({
      name: 'nchat_msg_get',
      text: `SELECT ${MESSAGE_COLS} FROM messages m WHERE m.id = $1`,
      values: [id],
    });
    return (await this.withReactions(r.rows))[0];
  }

  private async getByClientMsgId(channelId: string, authorId: string, clientMsgId: string): Promise<Message | undefined> {
    const r = await this.pool.query<MessageRow>(
      `SELECT ${MESSAGE_COLS} FROM messages m
       WHERE m.channel_id = $1 AND m.author_id = $2 AND m.client_msg_id = $3`,
      [channelId, authorId, clientMsgId],
    );
    return (await this.withReactions(r.rows))[0];
  }

  /**
   * Range scans of the (channel_id, seq) unique index, in either direction; one more query for
   * the page's reactions when any of its messages has some.
   */
  async history(channelId: string, q: HistoryQuery): Promise<Message[]> {
    const limit = pageLimit('history', q.limit);
    const before = seqCursor('history', 'before', q.before) ?? Number.MAX_SAFE_INTEGER;
    const after = seqCursor('history', 'after', q.after);
    let r: pg.QueryResult<MessageRow>;
    if (after !== undefined) {
      r = await this.pool.query<MessageRow>({
        name: 'nchat_history_after',
        text: `SELECT ${MESSAGE_COLS} FROM messages m
               WHERE m.channel_id = $1 AND m.seq > $2 AND m.seq < $3 ORDER BY m.seq ASC LIMIT $4`,
        values: [channelId, after, before, limit],
      });
    } else {
      r = await this.pool.query<MessageRow>({
        name: 'nchat_history_before',
        text: `SELECT ${MESSAGE_COLS} FROM messages m
               WHERE m.channel_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3`,
        values: [channelId, before, limit],
      });
    }
    return this.withReactions(r.rows);
  }

  async thread(rootId: string, limit: number, afterSeq?: number): Promise<Message[]> {
    const r = await this.pool.query<MessageRow>({
      name: 'nchat_thread',
      text: `SELECT ${MESSAGE_COLS} FROM messages m
             WHERE m.parent_id = $1 AND m.seq > $2 ORDER BY m.seq ASC LIMIT $3`,
      values: [rootId, seqCursor('thread', 'afterSeq', afterSeq) ?? 0, pageLimit('thread', limit)],
    });
    return this.withReactions(r.rows);
  }

  /** Text, mention columns and mention rows change together (one statement). */
  async update(id: string, text: string, mentions: NewMessage['mentions'], at: string): Promise<Message | undefined> {
    const ids = [...new Set((mentions?.userIds ?? []).map(String))];
    const r = await this.pool.query<MessageRow>(
      `WITH u AS (
         UPDATE messages m SET text = $2, mention_user_ids = $3::text[], mention_channel = $4,
                               mention_here = $5, edited_at = $6
         WHERE m.id = $1 AND m.deleted_at IS NULL
         RETURNING ${MESSAGE_COLS}),
       d AS (
         DELETE FROM message_mentions mm
         WHERE mm.message_id = $1 AND EXISTS (SELECT 1 FROM u) AND mm.user_id <> ALL ($3::text[])),
       i AS (
         INSERT INTO message_mentions (message_id, channel_id, seq, user_id)
         SELECT DISTINCT u.id, u.channel_id, u.seq, x FROM u, unnest($3::text[]) x
         ON CONFLICT DO NOTHING)
       SELECT * FROM u`,
      [id, text, ids, !!mentions?.channel, !!mentions?.here, at],
    );
    return (await this.withReactions(r.rows))[0];
  }

  /**
   * Keeps the row and its seq; blanks text, mentions and files (a deleted message shows and
   * notifies nothing) and removes reactions. A second call changes nothing and returns the same.
   */
  async softDelete(id: string, at: string): Promise<Message | undefined> {
    const r = await this.pool.query<MessageRow>(
      `WITH r AS (DELETE FROM reactions WHERE message_id = $1),
       mm AS (DELETE FROM message_mentions WHERE message_id = $1),
       mf AS (DELETE FROM message_files WHERE message_id = $1),
       u AS (
         UPDATE messages m SET text = '', mention_user_ids = '{}', mention_channel = false,
                               mention_here = false, files = NULL, reaction_count = 0,
                               deleted_at = COALESCE(m.deleted_at, $2)
         WHERE m.id = $1
         RETURNING ${MESSAGE_COLS})
       SELECT * FROM u`,
      [id, at],
    );
    return r.rows[0] ? toMessage(r.rows[0], []) : undefined;
  }

  /**
   * The reaction row and the message's reaction_count change in one statement. The count is
   * only bumped while the message is not deleted (re-checked on the latest row version), so a
   * reaction racing a soft delete stays invisible.
   */
  async addReaction(messageId: string, userId: string, emoji: string, at: string, limits?: ReactionLimits): Promise<boolean> {
    if (limits) return tx(this.pool, (c) => this.addLimitedReaction(c, messageId, userId, emoji, at, limits));
    return this.insertReaction(this.pool, messageId, userId, emoji, at);
  }

  /**
   * The message row is locked first (FOR UPDATE, like every reaction change's reaction_count
   * update), so concurrent adds on one message run one after another and each count below,
   * taken by its own statement after the lock, sees the others' committed rows. Reactions are
   * rare next to sends; the extra round trips buy an exact cap.
   */
  private async addLimitedReaction(
    c: Queryable,
    messageId: string,
    userId: string,
    emoji: string,
    at: string,
    limits: ReactionLimits,
  ): Promise<boolean> {
    const locked = await c.query('SELECT 1 FROM messages WHERE id = $1 AND deleted_at IS NULL FOR UPDATE', [messageId]);
    if (!locked.rowCount) return false;
    const r = await c.query<{ mine: number; known: boolean; already: boolean; emojis: number }>(
      `SELECT (SELECT count(*) FROM reactions WHERE message_id = $1 AND user_id = $2)::int AS mine,
              EXISTS (SELECT 1 FROM reactions WHERE message_id = $1 AND emoji = $3) AS known,
              EXISTS (SELECT 1 FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3) AS already,
              (SELECT count(DISTINCT emoji) FROM reactions WHERE message_id = $1)::int AS emojis`,
      [messageId, userId, emoji],
    );
    const n = r.rows[0];
    if (n.already) return false;
    if (n.mine >= limits.perUser)
      throw new AppError('LIMIT_REACHED', `at most ${limits.perUser} reactions per person on a message`, { limit: limits.perUser });
    if (!n.known && n.emojis >= limits.perMessage)
      throw new AppError('LIMIT_REACHED', `at most ${limits.perMessage} different emoji on a message`, { limit: limits.perMessage });
    return this.insertReaction(c, messageId, userId, emoji, at);
  }

  private async insertReaction(c: Queryable, messageId: string, userId: string, emoji: string, at: string): Promise<boolean> {
    const r = await c.query(
      `WITH i AS (
         INSERT INTO reactions (message_id, user_id, emoji, created_at)
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM messages WHERE id = $1 AND deleted_at IS NULL)
         ON CONFLICT DO NOTHING RETURNING message_id)
       UPDATE messages SET reaction_count = reaction_count + 1
       WHERE id = $1 AND deleted_at IS NULL AND EXISTS (SELECT 1 FROM i)`,
      [messageId, userId, emoji, at],
    );
    return (r.rowCount ?? 0) === 1;
  }

  /** Never: other nodes write to the same database, and this one would not hear of it in time. */
  async historyVersion(): Promise<undefined> {
    return undefined;
  }

  async removeReaction(messageId: string, userId: string, emoji: string): Promise<boolean> {
    const r = await this.pool.query(
      `WITH d AS (
         DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3 RETURNING message_id)
       UPDATE messages SET reaction_count = GREATEST(reaction_count - 1, 0)
       WHERE id = $1 AND EXISTS (SELECT 1 FROM d)`,
      [messageId, userId, emoji],
    );
    return (r.rowCount ?? 0) === 1;
  }

  /** One query for the reactions of the rows that have any (usually none: no query at all). */
  private async withReactions(rows: MessageRow[]): Promise<Message[]> {
    const ids = rows.filter((x) => Number(x.reaction_count) > 0).map((x) => x.id);
    if (ids.length === 0) return rows.map((row) => toMessage(row, []));
    const r = await this.pool.query<{ message_id: string; emoji: string; user_id: string }>({
      name: 'nchat_reactions_of',
      text: `SELECT message_id, emoji, user_id FROM reactions
             WHERE message_id = ANY($1::text[]) ORDER BY message_id, created_at, user_id, emoji`,
      values: [ids],
    });
    const byMsg = groupReactions(r.rows);
    return rows.map((row) => toMessage(row, byMsg.get(row.id) ?? []));
  }
}
