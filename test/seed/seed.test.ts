// nchat seed on both backends, small: the rows are what the messages imply (counts, gapless
// seqs, reply counts, mentions, reactions), the workspace is reused or refused as documented,
// the same seed gives the same workspace, the server's own reads work on it over HTTP, and the
// relevance set round-trips and is scored from real search results.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/config.js';
import type { SeedParams } from '../../src/seed/plan.js';
import { scoreRelevance } from '../../src/seed/score.js';
import { openConfiguredStore, readSeed, SeedError, type SeedResult, seedWorkspace } from '../../src/seed/seed.js';
import { startServer } from '../../src/server/main.js';
import { freshPostgres, pgSkipReason, type FreshPostgres } from '../helpers/postgres.js';

const PARAMS: SeedParams = { messages: 3000, users: 40, channels: 10, seed: 7 };
const quiet = { quiet: true, log: () => {} };

function configFor(dir: string, pgUrl?: string): Config {
  return loadConfig(
    {},
    {
      NCHAT_PORT: '0',
      NCHAT_HOST: '127.0.0.1',
      NCHAT_DATA_DIR: dir,
      NCHAT_LOG_LEVEL: 'silent',
      NCHAT_ARGON2_MEMORY_KIB: '1024',
      ...(pgUrl ? { NCHAT_DATABASE_URL: pgUrl, NCHAT_DB_POOL_SIZE: '5' } : {}),
    },
  );
}

/** One SQL runner over the backend's own connection (the checks read tables directly). */
interface Sql {
  one<T = Record<string, unknown>>(sql: string): Promise<T>;
  all<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}
function sqliteSql(file: string): Sql {
  const db = new Database(file, { readonly: true });
  return {
    one: async (s) => db.prepare(s).get() as never,
    all: async (s) => db.prepare(s).all() as never,
    close: async () => {
      db.close();
    },
  };
}
async function pgSql(url: string): Promise<Sql> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return {
    one: async (s) => (await c.query(s)).rows[0],
    all: async (s) => (await c.query(s)).rows,
    close: () => c.end(),
  };
}

for (const backend of ['sqlite', 'postgres'] as const) {
  const skip = backend === 'postgres' ? await pgSkipReason() : undefined;
  describe(`nchat seed [${backend}]`, { skip }, () => {
    let dir: string;
    let pgdb: FreshPostgres | undefined;
    let config: Config;
    let seeded: SeedResult;
    let sql: Sql;
    const members = backend === 'postgres' ? 'channel_members' : 'members';

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'nchat-seed-'));
      if (backend === 'postgres') pgdb = await freshPostgres();
      config = configFor(dir, pgdb?.url);
      seeded = await seedWorkspace(config, PARAMS, quiet);
      sql = backend === 'postgres' ? await pgSql(pgdb!.url) : sqliteSql(join(dir, 'nchat.db'));
    });
    after(async () => {
      await sql?.close();
      await pgdb?.drop();
      await rm(dir, { recursive: true, force: true });
    });

    it('writes the counts asked for, and every channel row agrees with its messages and members', async () => {
      assert.equal(seeded.reused, false);
      const n = (r: Record<string, unknown>) => Number(Object.values(r)[0]);
      assert.equal(n(await sql.one('SELECT count(*) FROM messages')), PARAMS.messages);
      assert.equal(n(await sql.one('SELECT count(*) FROM users')), PARAMS.users);
      assert.equal(n(await sql.one(`SELECT count(*) FROM channels WHERE type IN ('public','private')`)), PARAMS.channels);
      assert.ok(n(await sql.one(`SELECT count(*) FROM channels WHERE type = 'direct'`)) >= PARAMS.users / 2 - 1);
      assert.ok(n(await sql.one(`SELECT count(*) FROM channels WHERE type = 'group'`)) >= 2);
      // Gapless seq: per channel, count = max = last_seq and min = 1 (or no messages at all).
      const bad = await sql.all(
        `SELECT c.id FROM channels c LEFT JOIN (SELECT channel_id, count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM messages GROUP BY channel_id) m
         ON m.channel_id = c.id
         WHERE c.last_seq <> coalesce(m.n, 0) OR coalesce(m.hi, 0) <> coalesce(m.n, 0) OR coalesce(m.lo, 1) <> 1`,
      );
      assert.deepEqual(bad, []);
      assert.deepEqual(
        await sql.all(`SELECT c.id FROM channels c WHERE c.member_count <> (SELECT count(*) FROM ${members} m WHERE m.channel_id = c.id)`),
        [],
      );
      assert.deepEqual(
        await sql.all(`SELECT m.channel_id FROM ${members} m JOIN channels c ON c.id = m.channel_id WHERE m.read_seq > c.last_seq`),
        [],
      );
      // Each root's reply_count is the number of its replies; replies sit in their root's channel.
      assert.deepEqual(
        await sql.all(
          `SELECT r.id FROM messages r WHERE r.reply_count <> (SELECT count(*) FROM messages x WHERE x.parent_id = r.id)
           UNION ALL SELECT x.id FROM messages x JOIN messages r ON r.id = x.parent_id WHERE r.channel_id <> x.channel_id OR r.parent_id IS NOT NULL`,
        ),
        [],
      );
      assert.ok(n(await sql.one('SELECT count(*) FROM messages WHERE parent_id IS NOT NULL')) > PARAMS.messages * 0.05);
      assert.ok(n(await sql.one('SELECT count(*) FROM message_mentions')) > 0);
      assert.ok(n(await sql.one('SELECT count(*) FROM reactions')) > 0);
      // Authors are members of the channel they wrote in.
      assert.deepEqual(
        await sql.all(
          `SELECT x.id FROM messages x WHERE NOT EXISTS (SELECT 1 FROM ${members} m WHERE m.channel_id = x.channel_id AND m.user_id = x.author_id)`,
        ),
        [],
      );
      if (backend === 'postgres')
        assert.deepEqual(
          await sql.all(
            'SELECT x.id FROM messages x WHERE x.reaction_count <> (SELECT count(*) FROM reactions r WHERE r.message_id = x.id)',
          ),
          [],
        );
    });

    it('records the relevance set and reuses the workspace for the same options, refuses other options', async () => {
      const { store } = await openConfiguredStore(config);
      try {
        const stored = await readSeed(store);
        assert.deepEqual(stored?.relevance, seeded.relevance);
        assert.ok(seeded.relevance.queries.length >= 15);
        for (const q of seeded.relevance.queries) assert.ok(q.answers.length > 0, `${q.id} has answers`);
      } finally {
        await store.close();
      }
      const again = await seedWorkspace(config, PARAMS, quiet);
      assert.equal(again.reused, true);
      assert.deepEqual(again.relevance, seeded.relevance);
      await assert.rejects(seedWorkspace(config, { ...PARAMS, messages: PARAMS.messages + 1 }, quiet), SeedError);
    });

    it('serves the seeded workspace: sign-in, channel list with unread counts, history, a thread, and search scored', async () => {
      const running = await startServer(config);
      try {
        const post = (path: string, body: unknown) =>
          fetch(running.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const signin = await post('/api/auth/signin', { login: seeded.info.searcher, password: seeded.info.password });
        assert.equal(signin.status, 200);
        const { accessToken } = (await signin.json()) as { accessToken: string };
        const get = async (path: string) => {
          const r = await fetch(running.url + path, { headers: { authorization: `Bearer ${accessToken}` } });
          return { status: r.status, body: (await r.json()) as any };
        };
        const list = await get('/api/channels');
        assert.equal(list.status, 200);
        const general = list.body.channels.find((c: { name: string }) => c.name === 'general');
        assert.ok(general && general.lastSeq > 0 && general.unreadCount >= 0);
        const page = await get(`/api/channels/${general.id}/messages?limit=50`);
        assert.equal(page.status, 200);
        const seqs = page.body.messages.map((m: { seq: number }) => m.seq);
        assert.deepEqual(
          seqs,
          Array.from({ length: seqs.length }, (_, i) => general.lastSeq - i),
        );
        const root = (await sql.one<{ id: string; reply_count: number }>(
          `SELECT m.id, m.reply_count FROM messages m JOIN ${members} x ON x.channel_id = m.channel_id JOIN users u ON u.id = x.user_id
           WHERE u.username = 'searcher' AND m.reply_count > 0 ORDER BY m.id LIMIT 1`,
        ))!;
        const thread = await get(`/api/messages/${root.id}/thread?limit=200`);
        assert.equal(thread.status, 200);
        assert.equal(thread.body.root.replyCount, Number(root.reply_count));
        assert.equal(thread.body.replies.length, Number(root.reply_count));

        const score = await scoreRelevance(running.url, seeded.relevance, seeded.info.password);
        assert.equal(score.queries.length, seeded.relevance.queries.length);
        for (const q of score.queries) assert.equal(q.error, undefined, `${q.id}: ${q.error}`);
        // The plain one-word query finds its six answers and not the copies in a private channel.
        const word = score.queries.find((q) => q.id === 'word')!;
        assert.equal(word.recall, 1);
        assert.equal(word.precisionAt10, 1);
        assert.ok(score.score > 0 && score.score <= 1);
        process.stdout.write(
          `# ${backend} relevance score ${score.score.toFixed(3)} (P@10 ${score.precisionAt10.toFixed(3)}, recall ${score.recall.toFixed(3)})\n`,
        );
      } finally {
        await running.close();
      }
    });
  });
}

describe('nchat seed is deterministic', () => {
  it('the same options and seed give the same messages (ids, channels, seqs, text)', async () => {
    const digest = async () => {
      const dir = await mkdtemp(join(tmpdir(), 'nchat-seed-det-'));
      try {
        await seedWorkspace(configFor(dir), { ...PARAMS, messages: 1500 }, quiet);
        const db = new Database(join(dir, 'nchat.db'), { readonly: true });
        const h = createHash('sha256');
        for (const r of db.prepare('SELECT id, channel_id, seq, author_id, text, parent_id FROM messages ORDER BY id').iterate())
          h.update(JSON.stringify(r));
        db.close();
        return h.digest('hex');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    };
    assert.equal(await digest(), await digest());
  });
});
