import type pg from 'pg';
import { AppError } from '../../errors.js';
import type { ChannelStore } from '../store.js';
import type { Channel, ChannelForMember, ChannelPatch, Member, MemberRole, NewChannel } from '../types.js';
import { mapUniqueViolation, tx, type PgError } from './db.js';
import { pageLimit } from '../paging.js';
import { CHANNEL_COLS, MEMBER_COLS, toChannel, toMember, type ChannelRow, type MemberRow } from './rows.js';
import { UNREAD_COUNT_CAP } from '../../../protocol/objects.js';
import { ReadBatcher } from './read-batch.js';

// Lock order, to stay deadlock-free against messages.create (which locks the channel row, then
// updates the author's member row): anything that changes both a member row and the channel row
// either locks the channel row first or only inserts member rows (inserts lock nothing a sender waits on).

interface ChannelForMemberRow extends ChannelRow {
  member_role: string;
  read_seq: number;
  unread_count: number;
  mention_count: number;
  dm_user_ids: string[] | null;
}

type ChannelWithMember = { channel: Channel; member: Member | undefined };
type WithMemberRow = ChannelRow & { m_role: string | null; m_joined_at: string | null; m_read_seq: number | null };

const withMemberKey = (channelId: string, userId: string) => `${channelId}\u0000${userId}`;
const byUsernamesKey = (channelId: string, names: string[]) => `${channelId}\u0000${names.join('\u0000')}`;

function toWithMember(row: WithMemberRow, userId: string): ChannelWithMember {
  const member =
    row.m_role === null
      ? undefined
      : toMember({
          channel_id: row.id,
          user_id: userId,
          role: row.m_role,
          joined_at: row.m_joined_at!,
          read_seq: row.m_read_seq!,
        } as MemberRow);
  return { channel: toChannel(row), member };
}

const fkMissing = (err: unknown) => (err as PgError)?.code === '23503';

export class PostgresChannels implements ChannelStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(input: NewChannel): Promise<Channel> {
    try {
      // One statement, so the channel and its owner membership commit together.
      const r = await this.pool.query<ChannelRow>(
        `WITH c AS (
           INSERT INTO channels (id, type, name, description, topic, created_by, created_at, member_count)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 1) RETURNING *),
         m AS (
           INSERT INTO channel_members (channel_id, user_id, role, joined_at)
           SELECT c.id, c.created_by, 'owner', c.created_at FROM c)
         SELECT ${CHANNEL_COLS} FROM c`,
        [input.id, input.type, input.name, input.description ?? '', input.topic ?? '', input.createdBy, input.createdAt],
      );
      return toChannel(r.rows[0]);
    } catch (err) {
      mapUniqueViolation(err);
    }
  }

  async getOrCreateDm(userIds: string[], createdBy: string, id: string, at: string): Promise<{ channel: Channel; created: boolean }> {
    const ids = [...new Set(userIds.map(String))].sort();
    if (ids.length === 0) throw new AppError('VALIDATION_FAILED', 'a direct channel needs at least one user');
    const key = ids.join(',');
    const type = ids.length <= 2 ? 'direct' : 'group';
    try {
      const r = await this.pool.query<ChannelRow>(
        `WITH c AS (
           INSERT INTO channels (id, type, name, created_by, created_at, member_count, dm_key)
           VALUES ($1, $2, NULL, $3, $4, $5, $6)
           ON CONFLICT (dm_key) WHERE dm_key IS NOT NULL DO NOTHING RETURNING *),
         m AS (
           INSERT INTO channel_members (channel_id, user_id, role, joined_at)
           SELECT c.id, u, 'member', c.created_at FROM c, unnest($7::text[]) u)
         SELECT ${CHANNEL_COLS} FROM c`,
        [id, type, createdBy, at, ids.length, key, ids],
      );
      if (r.rows[0]) return { channel: toChannel(r.rows[0]), created: true };
    } catch (err) {
      if (fkMissing(err)) throw new AppError('NOT_FOUND', 'user not found');
      throw err;
    }
    // Lost the race (or it existed): ON CONFLICT waited for the winner to commit, and this new
    // statement's snapshot sees it.
    const r = await this.pool.query<ChannelRow>(`SELECT ${CHANNEL_COLS} FROM channels c WHERE c.dm_key = $1`, [key]);
    if (!r.rows[0]) throw new Error('direct channel vanished after conflict');
    return { channel: toChannel(r.rows[0]), created: false };
  }

  async get(id: string): Promise<Channel | undefined> {
    const r = await this.pool.query<ChannelRow>({
      name: 'nchat_channel_get',
      text: `SELECT ${CHANNEL_COLS} FROM channels c WHERE c.id = $1`,
      values: [id],
    });
    return r.rows[0] ? toChannel(r.rows[0]) : undefined;
  }

  async update(id: string, patch: ChannelPatch): Promise<Channel | undefined> {
    const sets: string[] = [];
    const values: unknown[] = [id];
    const set = (col: string, v: unknown) => {
      values.push(v);
      sets.push(`${col} = $${values.length}`);
    };
    if (patch.name !== undefined) set('name', patch.name);
    if (patch.description !== undefined) set('description', patch.description);
    if (patch.topic !== undefined) set('topic', patch.topic);
    if (sets.length === 0) return this.get(id);
    try {
      const r = await this.pool.query<ChannelRow>(
        `UPDATE channels c SET ${sets.join(', ')} WHERE c.id = $1 RETURNING ${CHANNEL_COLS}`,
        values,
      );
      return r.rows[0] ? toChannel(r.rows[0]) : undefined;
    } catch (err) {
      mapUniqueViolation(err);
    }
  }

  async archive(id: string, at: string): Promise<Channel | undefined> {
    const r = await this.pool.query<ChannelRow>(
      `UPDATE channels c SET archived_at = COALESCE(c.archived_at, $2) WHERE c.id = $1 RETURNING ${CHANNEL_COLS}`,
      [id, at],
    );
    return r.rows[0] ? toChannel(r.rows[0]) : undefined;
  }

  /**
   * One query. Per membership, each count stops at UNREAD_COUNT_CAP rows (the client shows "99+"),
   * so a member far behind costs at most CAP rows per channel, not one per unread message: unread
   * is an index-only range of messages_channel_seq_key past read_seq; @channel/@here mentions a
   * range of the partial index messages_broadcast_idx (0011_unread: only those messages); mentions
   * by name come from message_mentions (user_id, channel_id, seq), skipping messages already counted.
   * ORDER BY seq makes each an ordered index scan that stops at the LIMIT; without it the planner
   * may take a bitmap scan, which reads every index entry past read_seq before the LIMIT applies.
   */
  async listForUser(userId: string): Promise<ChannelForMember[]> {
    // Named: parsed once per connection, and after five executions PostgreSQL keeps a generic
    // plan (checked with PREPARE/EXPLAIN EXECUTE: the same plan, planning 0.3–1 ms → 0.01 ms).
    const r = await this.pool.query<ChannelForMemberRow>({
      name: 'nchat_channels_for_user',
      text: `SELECT ${CHANNEL_COLS}, m.role AS member_role, m.read_seq,
              CASE WHEN c.last_seq <= m.read_seq THEN 0 ELSE (
                SELECT count(*) FROM (
                  SELECT 1 FROM messages g
                  WHERE g.channel_id = c.id AND g.seq > m.read_seq AND g.deleted_at IS NULL AND g.author_id <> $1
                  ORDER BY g.seq LIMIT ${UNREAD_COUNT_CAP}) u
              ) END AS unread_count,
              CASE WHEN c.last_seq <= m.read_seq THEN 0 ELSE least(${UNREAD_COUNT_CAP}, (
                SELECT count(*) FROM (
                  SELECT 1 FROM messages g
                  WHERE g.channel_id = c.id AND g.seq > m.read_seq AND (g.mention_channel OR g.mention_here)
                    AND g.deleted_at IS NULL AND g.author_id <> $1
                  ORDER BY g.seq LIMIT ${UNREAD_COUNT_CAP}) b
              ) + (
                SELECT count(*) FROM (
                  SELECT 1 FROM message_mentions mm JOIN messages x ON x.id = mm.message_id
                  WHERE mm.user_id = $1 AND mm.channel_id = c.id AND mm.seq > m.read_seq
                    AND x.deleted_at IS NULL AND x.author_id <> $1 AND NOT x.mention_channel AND NOT x.mention_here
                  LIMIT ${UNREAD_COUNT_CAP}) n
              )) END AS mention_count,
              CASE WHEN c.type IN ('direct', 'group') THEN
                ARRAY(SELECT x.user_id FROM channel_members x WHERE x.channel_id = c.id ORDER BY x.user_id)
              END AS dm_user_ids
       FROM channel_members m
       JOIN channels c ON c.id = m.channel_id
       WHERE m.user_id = $1
       ORDER BY c.id`,
      values: [userId],
    });
    return r.rows.map((row) => ({
      ...toChannel(row),
      memberRole: row.member_role as MemberRole,
      readSeq: Number(row.read_seq),
      unreadCount: Number(row.unread_count),
      mentionCount: Number(row.mention_count),
      dmUserIds: row.dm_user_ids ? [...row.dm_user_ids] : null,
    }));
  }

  /** Ordered by lower(name) (names are unique case-insensitively), as the SQLite store does. */
  async listPublic(limit: number, after?: string): Promise<Channel[]> {
    const r = await this.pool.query<ChannelRow>(
      `SELECT ${CHANNEL_COLS} FROM channels c
       WHERE c.type = 'public' AND c.archived_at IS NULL AND ($2::text IS NULL OR lower(c.name) > lower($2))
       ORDER BY lower(c.name) LIMIT $1`,
      [pageLimit('publicChannels', limit), after ?? null],
    );
    return r.rows.map(toChannel);
  }

  async getMember(channelId: string, userId: string): Promise<Member | undefined> {
    const r = await this.pool.query<MemberRow>({
      name: 'nchat_member_get',
      text: `SELECT ${MEMBER_COLS} FROM channel_members m WHERE m.channel_id = $1 AND m.user_id = $2`,
      values: [channelId, userId],
    });
    return r.rows[0] ? toMember(r.rows[0]) : undefined;
  }

  async getWithMember(channelId: string, userId: string): Promise<ChannelWithMember | undefined> {
    // One round trip instead of two, and the calls of one turn share it (read-batch.ts): this
    // runs before every send and every read of a channel.
    return this.withMember.load({ channelId, userId });
  }

  private readonly withMember = new ReadBatcher<{ channelId: string; userId: string }, ChannelWithMember>(
    (k) => withMemberKey(k.channelId, k.userId),
    async ({ channelId, userId }) => {
      const r = await this.pool.query<WithMemberRow>({
        name: 'nchat_channel_get_with_member',
        text: `SELECT ${CHANNEL_COLS}, m.role AS m_role, m.joined_at AS m_joined_at, m.read_seq AS m_read_seq
               FROM channels c LEFT JOIN channel_members m ON m.channel_id = c.id AND m.user_id = $2
               WHERE c.id = $1`,
        values: [channelId, userId],
      });
      return r.rows[0] ? toWithMember(r.rows[0], userId) : undefined;
    },
    async (keys) => {
      const r = await this.pool.query<WithMemberRow & { q_user_id: string }>({
        name: 'nchat_channels_get_with_member',
        // One index probe per key, whatever the planner thinks of the array's size: each lookup
        // is a LATERAL subquery that LIMIT keeps from being flattened into a join (flattened,
        // 64 keys became a hash join over a sequential scan of channels, 3.3 ms against 0.7 ms
        // at 10,000 channels), and COLLATE "C" matches the key columns so both index columns
        // are used for the member (without it, user_id was a filter over the channel's members).
        text: `SELECT ${CHANNEL_COLS}, q.user_id AS q_user_id, m.role AS m_role, m.joined_at AS m_joined_at, m.read_seq AS m_read_seq
               FROM unnest($1::text[], $2::text[]) AS q(channel_id, user_id)
               CROSS JOIN LATERAL (SELECT * FROM channels c WHERE c.id = q.channel_id COLLATE "C" LIMIT 1) c
               LEFT JOIN LATERAL (SELECT * FROM channel_members m
                  WHERE m.channel_id = q.channel_id COLLATE "C" AND m.user_id = q.user_id COLLATE "C" LIMIT 1) m ON true`,
        values: [keys.map((k) => k.channelId), keys.map((k) => k.userId)],
      });
      return new Map(r.rows.map((row) => [withMemberKey(row.id, row.q_user_id), toWithMember(row, row.q_user_id)]));
    },
  );

  async addMembers(channelId: string, members: { userId: string; role: MemberRole }[], at: string): Promise<string[]> {
    const seen = new Set<string>();
    const uniq = members.filter((m) => !seen.has(m.userId) && seen.add(m.userId));
    if (uniq.length === 0) return [];
    try {
      // Insert first, then bump the counter by exactly the rows inserted (ON CONFLICT skips
      // existing members and waits for in-flight inserts of the same key).
      const r = await this.pool.query<{ user_id: string }>(
        `WITH ins AS (
           INSERT INTO channel_members (channel_id, user_id, role, joined_at)
           SELECT $1, u.user_id, u.role, $4 FROM unnest($2::text[], $3::text[]) AS u(user_id, role)
           ON CONFLICT DO NOTHING RETURNING user_id),
         upd AS (
           UPDATE channels SET member_count = member_count + (SELECT count(*) FROM ins)
           WHERE id = $1 AND EXISTS (SELECT 1 FROM ins))
         SELECT user_id FROM ins`,
        [channelId, uniq.map((m) => m.userId), uniq.map((m) => m.role), at],
      );
      const added = new Set(r.rows.map((x) => x.user_id));
      return uniq.map((m) => m.userId).filter((u) => added.has(u));
    } catch (err) {
      if (fkMissing(err)) throw new AppError('NOT_FOUND', 'channel or user not found');
      throw err;
    }
  }

  async removeMember(channelId: string, userId: string): Promise<boolean> {
    return tx(this.pool, async (c) => {
      // Channel row first (see lock order above); the DELETE then runs with a fresh snapshot, so
      // two concurrent removals decrement the counter once.
      const ch = await c.query('SELECT 1 FROM channels WHERE id = $1 FOR NO KEY UPDATE', [channelId]);
      if (ch.rowCount === 0) return false;
      const d = await c.query('DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2', [channelId, userId]);
      if ((d.rowCount ?? 0) === 0) return false;
      await c.query('UPDATE channels SET member_count = member_count - 1 WHERE id = $1', [channelId]);
      return true;
    });
  }

  async setMemberRole(channelId: string, userId: string, role: MemberRole): Promise<boolean> {
    const r = await this.pool.query('UPDATE channel_members SET role = $3 WHERE channel_id = $1 AND user_id = $2', [
      channelId,
      userId,
      role,
    ]);
    return (r.rowCount ?? 0) === 1;
  }

  async listMembers(channelId: string, limit: number, after?: string): Promise<Member[]> {
    const r = await this.pool.query<MemberRow>(
      `SELECT ${MEMBER_COLS} FROM channel_members m
       WHERE m.channel_id = $1 AND ($3::text IS NULL OR m.user_id > $3)
       ORDER BY m.user_id LIMIT $2`,
      [channelId, pageLimit('members', limit), after ?? null],
    );
    return r.rows.map(toMember);
  }

  async memberIds(channelId: string): Promise<string[]> {
    const r = await this.pool.query<{ user_id: string }>({
      name: 'nchat_member_ids',
      text: 'SELECT user_id FROM channel_members WHERE channel_id = $1 ORDER BY user_id',
      values: [channelId],
    });
    return r.rows.map((x) => x.user_id);
  }

  async memberIdsByUsernames(channelId: string, usernames: string[]): Promise<string[]> {
    if (usernames.length === 0) return [];
    // A send with @mentions reads this before its write: the calls of one turn share a statement
    // (read-batch.ts), as the authorization read does. Names are matched lower-cased, so the key is too.
    const names = [...new Set(usernames.map((n) => String(n).toLowerCase()))].sort();
    return (await this.byUsernames.load({ channelId, names })) ?? [];
  }

  private readonly byUsernames = new ReadBatcher<{ channelId: string; names: string[] }, string[]>(
    (k) => byUsernamesKey(k.channelId, k.names),
    async ({ channelId, names }) => {
      const r = await this.pool.query<{ id: string }>({
        name: 'nchat_member_ids_by_usernames',
        text: `SELECT u.id FROM users u JOIN channel_members m ON m.user_id = u.id AND m.channel_id = $1
               WHERE lower(u.username) = ANY($2::text[]) ORDER BY u.username`,
        values: [channelId, names],
      });
      return r.rows.map((x) => x.id);
    },
    async (keys) => {
      // Flattened to one row per (key, name); each row is an index probe on lower(username), then
      // on the member's primary key. Every key gets an entry (empty when no name is a member).
      const ki: number[] = [];
      const chs: string[] = [];
      const ns: string[] = [];
      keys.forEach((k, i) => {
        for (const n of k.names) {
          ki.push(i);
          chs.push(k.channelId);
          ns.push(n);
        }
      });
      const r = await this.pool.query<{ k: number; id: string }>({
        name: 'nchat_member_ids_by_usernames_many',
        text: `SELECT q.k, u.id
               FROM unnest($1::int[], $2::text[], $3::text[]) AS q(k, channel_id, name)
               CROSS JOIN LATERAL (SELECT * FROM users x WHERE lower(x.username) = q.name COLLATE "C" LIMIT 1) u
               CROSS JOIN LATERAL (SELECT 1 FROM channel_members m
                 WHERE m.channel_id = q.channel_id COLLATE "C" AND m.user_id = u.id LIMIT 1) m
               ORDER BY q.k, u.username`,
        values: [ki, chs, ns],
      });
      const out = new Map<string, string[]>(keys.map((k) => [byUsernamesKey(k.channelId, k.names), []]));
      for (const row of r.rows) {
        const k = keys[row.k];
        out.get(byUsernamesKey(k.channelId, k.names))!.push(row.id);
      }
      return out;
    },
  );

  async positionsForUser(userId: string): Promise<{ channelId: string; lastSeq: number }[]> {
    const r = await this.pool.query<{ id: string; last_seq: number }>(
      `SELECT c.id, c.last_seq FROM channel_members m JOIN channels c ON c.id = m.channel_id
       WHERE m.user_id = $1 ORDER BY c.id`,
      [userId],
    );
    return r.rows.map((x) => ({ channelId: x.id, lastSeq: Number(x.last_seq) }));
  }

  async markRead(channelId: string, userId: string, seq: number): Promise<number | undefined> {
    const s = Math.floor(Number(seq));
    const r = await this.pool.query<{ read_seq: number }>(
      `UPDATE channel_members m SET read_seq = GREATEST(m.read_seq, LEAST($3::bigint, c.last_seq))
       FROM channels c WHERE c.id = m.channel_id AND m.channel_id = $1 AND m.user_id = $2
       RETURNING m.read_seq`,
      [channelId, userId, Number.isFinite(s) ? Math.max(0, Math.min(s, Number.MAX_SAFE_INTEGER)) : 0],
    );
    return r.rows[0] ? Number(r.rows[0].read_seq) : undefined;
  }
}
