// PostgreSQL bulk writer (contract: store/bulk.ts). One connection of its own; each call is one
// transaction of multi-row INSERT … SELECT FROM unnest($1::text[], …) statements (one round trip
// and one plan per table per batch; there is no COPY client installed). synchronous_commit is
// off for this session only: a crash mid-seed loses at most the last batches of a workspace the
// seeder will refuse to reuse anyway (its meta row is written last).
import pg from 'pg';
import type { BulkChannel, BulkFinish, BulkMember, BulkMessage, BulkUser, BulkWriter } from '../bulk.js';

/** Array literal of ids for a text[] column ('{a,b}'); ids are [0-9a-z] so nothing needs quoting. */
const idArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

export async function openPostgresBulk(url: string): Promise<BulkWriter> {
  const client = new pg.Client({ connectionString: url, application_name: 'nchat-seed' });
  client.on('error', () => {});
  await client.connect();
  await client.query('SET synchronous_commit = off');
  return new PostgresBulk(client);
}

class PostgresBulk implements BulkWriter {
  constructor(private readonly c: pg.Client) {}

  private async tx(fn: () => Promise<void>): Promise<void> {
    await this.c.query('BEGIN');
    try {
      await fn();
      await this.c.query('COMMIT');
    } catch (err) {
      await this.c.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  async writeDirectory(users: BulkUser[], channels: BulkChannel[], members: BulkMember[]): Promise<void> {
    const counts = new Map<string, number>();
    for (const m of members) counts.set(m.channelId, (counts.get(m.channelId) ?? 0) + 1);
    await this.tx(async () => {
      await this.c.query(
        `INSERT INTO users (id, username, email, display_name, password_hash, role, created_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])`,
        [
          users.map((u) => u.id),
          users.map((u) => u.username),
          users.map((u) => u.email),
          users.map((u) => u.displayName),
          users.map((u) => u.passwordHash),
          users.map((u) => u.role),
          users.map((u) => u.createdAt),
        ],
      );
      await this.c.query(
        `INSERT INTO channels (id, type, name, description, created_by, created_at, member_count, dm_key)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::int[], $8::text[])`,
        [
          channels.map((c) => c.id),
          channels.map((c) => c.type),
          channels.map((c) => c.name),
          channels.map((c) => c.description),
          channels.map((c) => c.createdBy),
          channels.map((c) => c.createdAt),
          channels.map((c) => counts.get(c.id) ?? 0),
          channels.map((c) => c.dmKey),
        ],
      );
      // Members in slices: a #general of 100,000 users is one row each.
      for (let i = 0; i < members.length; i += 50_000) {
        const part = members.slice(i, i + 50_000);
        await this.c.query(
          `INSERT INTO channel_members (channel_id, user_id, role, joined_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])`,
          [part.map((m) => m.channelId), part.map((m) => m.userId), part.map((m) => m.role), part.map((m) => m.joinedAt)],
        );
      }
    });
  }

  async writeMessages(batch: BulkMessage[]): Promise<void> {
    const mention = { msg: [] as string[], ch: [] as string[], seq: [] as number[], user: [] as string[] };
    const react = { msg: [] as string[], user: [] as string[], emoji: [] as string[], at: [] as string[] };
    for (const m of batch) {
      for (const u of m.mentionUserIds) {
        mention.msg.push(m.id);
        mention.ch.push(m.channelId);
        mention.seq.push(m.seq);
        mention.user.push(u);
      }
      for (const r of m.reactions) {
        react.msg.push(m.id);
        react.user.push(r.userId);
        react.emoji.push(r.emoji);
        react.at.push(r.createdAt);
      }
    }
    await this.tx(async () => {
      await this.c.query(
        `INSERT INTO messages (id, channel_id, seq, author_id, text, created_at, parent_id, mention_user_ids, mention_channel, reaction_count)
         SELECT id, ch, seq, author, body, at, parent, mentions::text[], mch, rc
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[],
                     $9::boolean[], $10::int[]) AS t(id, ch, seq, author, body, at, parent, mentions, mch, rc)`,
        [
          batch.map((m) => m.id),
          batch.map((m) => m.channelId),
          batch.map((m) => m.seq),
          batch.map((m) => m.authorId),
          batch.map((m) => m.text),
          batch.map((m) => m.createdAt),
          batch.map((m) => m.parentId),
          batch.map((m) => idArray(m.mentionUserIds)),
          batch.map((m) => m.mentionChannel),
          batch.map((m) => m.reactions.length),
        ],
      );
      if (mention.msg.length)
        await this.c.query(
          `INSERT INTO message_mentions (message_id, channel_id, seq, user_id)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) ON CONFLICT DO NOTHING`,
          [mention.msg, mention.ch, mention.seq, mention.user],
        );
      if (react.msg.length)
        await this.c.query(
          `INSERT INTO reactions (message_id, user_id, emoji, created_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])`,
          [react.msg, react.user, react.emoji, react.at],
        );
    });
  }

  async finish(f: BulkFinish): Promise<void> {
    await this.tx(async () => {
      const ids = [...f.lastSeq.keys()];
      await this.c.query(`UPDATE channels c SET last_seq = t.seq FROM unnest($1::text[], $2::bigint[]) AS t(id, seq) WHERE c.id = t.id`, [
        ids,
        ids.map((id) => f.lastSeq.get(id)!),
      ]);
      for (let i = 0; i < f.readSeq.length; i += 50_000) {
        const part = f.readSeq.slice(i, i + 50_000);
        await this.c.query(
          `UPDATE channel_members m SET read_seq = t.rs FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(ch, u, rs)
           WHERE m.channel_id = t.ch AND m.user_id = t.u`,
          [part.map((r) => r.channelId), part.map((r) => r.userId), part.map((r) => r.readSeq)],
        );
      }
      for (let i = 0; i < f.threads.length; i += 50_000) {
        const part = f.threads.slice(i, i + 50_000);
        await this.c.query(
          `UPDATE messages m SET reply_count = t.n, last_reply_at = t.at FROM unnest($1::text[], $2::int[], $3::timestamptz[]) AS t(id, n, at)
           WHERE m.id = t.id`,
          [part.map((t) => t.rootId), part.map((t) => t.replyCount), part.map((t) => t.lastReplyAt)],
        );
      }
    });
    // Fresh statistics for the planner (the tables grew from empty to millions of rows), and a
    // VACUUM: it sets the pages' hint bits and all-visible bits, as autovacuum would have long
    // before a production workspace held this many messages. Without it every copy of a seeded
    // workspace (a TEMPLATE of the load test's run database) started with no page all-visible,
    // and on a server with autovacuum off (this machine's CI configuration) stayed so.
    await this.c.query('VACUUM (ANALYZE)');
  }

  async close(): Promise<void> {
    await this.c.end().catch(() => {});
  }
}
