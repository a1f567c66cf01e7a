// SQLite bulk writer (contract: store/bulk.ts). Its own connection to the store's file, with
// durability relaxed for the load (synchronous = OFF: a crash mid-seed leaves a workspace to
// throw away, which the seeder detects, since its meta row is written last) and a large page
// cache. Prepared single-row statements inside one transaction per call: better-sqlite3 runs
// them at native speed, and messages arrive in time order, so both B-trees of messages (by
// (channel_id, seq) and by id) are appended at a few hot pages.
import Database from 'better-sqlite3';
import type { BulkChannel, BulkFinish, BulkMember, BulkMessage, BulkUser, BulkWriter } from '../bulk.js';

export function openSqliteBulk(file: string): BulkWriter {
  const db = new Database(file);
  db.pragma('busy_timeout = 30000');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144'); // 256 MiB
  db.pragma('temp_store = MEMORY');
  return new SqliteBulk(db);
}

class SqliteBulk implements BulkWriter {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      user: db.prepare(
        `INSERT INTO users (id, username, email, display_name, display_name_fold, password_hash, role, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      channel: db.prepare(
        `INSERT INTO channels (id, type, name, description, created_by, created_at, member_count, dm_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      member: db.prepare('INSERT INTO members (channel_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)'),
      message: db.prepare(
        `INSERT INTO messages (channel_id, seq, id, author_id, text, created_at, parent_id, mention_user_ids, mention_channel)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      mention: db.prepare('INSERT OR IGNORE INTO message_mentions (user_id, channel_id, seq, message_id) VALUES (?, ?, ?, ?)'),
      reaction: db.prepare('INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)'),
      lastSeq: db.prepare('UPDATE channels SET last_seq = ? WHERE id = ?'),
      readSeq: db.prepare('UPDATE members SET read_seq = ? WHERE channel_id = ? AND user_id = ?'),
      thread: db.prepare('UPDATE messages SET reply_count = ?, last_reply_at = ? WHERE id = ?'),
    };
  }

  private directoryTx(users: BulkUser[], channels: BulkChannel[], members: BulkMember[]): void {
    this.db
      .transaction(() => {
        for (const u of users)
          this.s.user.run(u.id, u.username, u.email, u.displayName, u.displayName.toLowerCase(), u.passwordHash, u.role, u.createdAt);
        const counts = new Map<string, number>();
        for (const m of members) counts.set(m.channelId, (counts.get(m.channelId) ?? 0) + 1);
        for (const c of channels)
          this.s.channel.run(c.id, c.type, c.name, c.description, c.createdBy, c.createdAt, counts.get(c.id) ?? 0, c.dmKey);
        for (const m of members) this.s.member.run(m.channelId, m.userId, m.role, m.joinedAt);
      })
      .immediate();
  }

  async writeDirectory(users: BulkUser[], channels: BulkChannel[], members: BulkMember[]): Promise<void> {
    this.directoryTx(users, channels, members);
  }

  private messagesTx(batch: BulkMessage[]): void {
    const s = this.s;
    for (const m of batch) {
      s.message.run(
        m.channelId,
        m.seq,
        m.id,
        m.authorId,
        m.text,
        m.createdAt,
        m.parentId,
        m.mentionUserIds.length ? JSON.stringify(m.mentionUserIds) : null,
        m.mentionChannel ? 1 : 0,
      );
      for (const u of m.mentionUserIds) s.mention.run(u, m.channelId, m.seq, m.id);
      for (const r of m.reactions) s.reaction.run(m.id, r.userId, r.emoji, r.createdAt);
    }
  }

  async writeMessages(batch: BulkMessage[]): Promise<void> {
    this.db.transaction(() => this.messagesTx(batch)).immediate();
  }

  async finish(f: BulkFinish): Promise<void> {
    this.db
      .transaction(() => {
        for (const [id, seq] of f.lastSeq) this.s.lastSeq.run(seq, id);
        for (const r of f.readSeq) this.s.readSeq.run(r.readSeq, r.channelId, r.userId);
        for (const t of f.threads) this.s.thread.run(t.replyCount, t.lastReplyAt, t.rootId);
      })
      .immediate();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
