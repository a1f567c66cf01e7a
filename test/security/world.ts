// The security matrix's fixture (not a test file itself): one set of actors and private objects
// per server, and a fingerprint of everything the server stores, so every row can assert that a
// refused request wrote nothing.
//
// Actors: `alice` owns a private channel with a message (a file with a thumbnail attached, one
// reaction, one thread reply) and an unfinished resumable upload; `bob` is a member-role user
// outside it; `guest` has the guest role and was added to nothing; `gone` was a member of the
// channel and is deactivated. The owner of the workspace is the server's first account.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import sharp from 'sharp';
import { upload, waitThumbnail } from '../helpers/files.js';
import type { TestServer, TestUser } from '../helpers/server.js';
import { unique } from '../helpers/server.js';
import { createChannel, send, withRole } from '../http/util.js';
import type { Reply } from '../helpers/server.js';

/** Any 2xx (the fixture cares that a step worked, the route tests check exact statuses). */
function done<T = any>(r: Reply<T>, what: string): T {
  if (r.status < 200 || r.status > 299) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export interface World {
  srv: TestServer;
  owner: TestUser;
  alice: TestUser;
  bob: TestUser;
  guest: TestUser;
  gone: TestUser;
  /** A second member of `priv` (target of member-management rows). */
  carol: TestUser;
  priv: { id: string; name: string };
  /** A public channel of alice's with one message (bob and carol are not in it). */
  pub: { id: string; name: string };
  pubMsg: { id: string };
  /** A direct-message channel between alice and the owner, with one message. */
  dm: { id: string };
  dmMsg: { id: string };
  /** A word only the private channel's message holds (search and suggest probes). */
  secretWord: string;
  msg: { id: string };
  reply: { id: string };
  file: { id: string };
  tusId: string;
  /** Alice's refresh token from a dedicated sign-in (the refresh rows use their own). */
  signedOutToken: string;
  /** Stable digest of every stored row and every file on the volume. */
  fingerprint(): Promise<string>;
  close(): Promise<void>;
}

/** A real 64x48 PNG (a thumbnail is made from it). */
export const pngBytes = () =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 90 } } })
    .png()
    .toBuffer();

export async function buildWorld(srv: TestServer): Promise<World> {
  const owner = srv.owner;
  const [alice, bob, carol, goneUser, guestUser] = await Promise.all(['alice', 'bob', 'carol', 'gone', 'guest'].map((p) => srv.user(p)));
  const guest = await withRole(srv, owner, guestUser, 'guest');
  const secretWord = `zyx${unique('w')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')}`;
  const priv = await createChannel(alice.api, unique('priv'), 'private');
  const pub = await createChannel(alice.api, unique('pub'), 'public');
  const pubMsg = await send(alice.api, pub.id, 'a public message');
  const dm = done(await alice.api.post('/api/dms', { userIds: [owner.id] }), 'dm');
  const dmMsg = await send(alice.api, dm.id, 'a direct message');
  done(await alice.api.post(`/api/channels/${priv.id}/members`, { userIds: [carol.id, goneUser.id] }), 'add members');
  const up = await upload(srv.running.url, alice, await pngBytes(), { name: 'secret.png', type: 'image/png', channelId: priv.id });
  if (up.status !== 201) throw new Error(`upload: ${up.status} ${JSON.stringify(up.body)}`);
  const msg = await send(alice.api, priv.id, `${secretWord} private plans`, { fileIds: [up.body.id] });
  const thumb = await waitThumbnail(srv.running.url, alice, up.body.id);
  if (thumb.status !== 200) throw new Error(`thumbnail: ${thumb.status}`);
  const reply = await send(alice.api, priv.id, 'a private reply', { parentId: msg.id });
  done(await alice.api.put(`/api/messages/${msg.id}/reactions/thumbsup`), 'react');
  const tus = await fetch(`${srv.running.url}/api/files/tus`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice.token}`, 'tus-resumable': '1.0.0', 'upload-length': '100' },
  });
  if (tus.status !== 201) throw new Error(`tus create: ${tus.status} ${await tus.text()}`);
  const tusId = (tus.headers.get('location') ?? '').split('/').pop() ?? '';
  // A session that was signed out: its access token must be refused.
  const s = done(await srv.api.post('/api/auth/signin', { login: alice.username, password: 'correct horse battery' }), 'signin');
  done(await srv.api.as(s.accessToken).post('/api/auth/signout', { refreshToken: s.refreshToken }), 'signout');
  done(await owner.api.patch(`/api/admin/users/${goneUser.id}`, { deactivated: true }), 'deactivate');

  const fp = await openFingerprint(srv);
  return {
    srv,
    owner,
    alice,
    bob,
    carol,
    guest,
    gone: goneUser,
    priv,
    pub,
    pubMsg,
    dm: { id: dm.id },
    dmMsg,
    secretWord,
    msg,
    reply,
    file: { id: up.body.id },
    tusId,
    signedOutToken: s.accessToken,
    fingerprint: fp.digest,
    close: fp.close,
  };
}

// Rows that change on reads or that are not domain data: the migration table, generated secrets
// (meta), and the search index's own tables (derived from messages, which are hashed).
const skipTable = (name: string) => /^(sqlite_|schema_migrations$|meta$|search)/.test(name) || name.includes('_fts');

export async function openFingerprint(srv: TestServer): Promise<{ digest(): Promise<string>; close(): Promise<void> }> {
  const dataDir = resolve(srv.running.config.dataDir);
  const volume = async () => {
    const all = await readdir(join(dataDir, 'files'), { recursive: true, withFileTypes: true }).catch(() => []);
    return all
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort();
  };
  const url = srv.running.config.databaseUrl;
  if (!url) {
    const db = new Database(join(dataDir, 'nchat.db'), { readonly: true, fileMustExist: true });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as { name: string }[])
      .map((t) => t.name)
      .filter((n) => !skipTable(n))
      .sort();
    return {
      async digest() {
        const h = createHash('sha256');
        for (const t of tables) h.update(`${t}:${JSON.stringify(db.prepare(`SELECT * FROM "${t}" ORDER BY 1`).raw().all())}\n`);
        h.update(JSON.stringify(await volume()));
        return h.digest('hex');
      },
      async close() {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: url });
  // The suite's server drops the database in its own after hook, which may run before ours:
  // the termination arrives as an 'error' event (queries in flight still reject).
  client.on('error', () => {});
  await client.connect();
  const tables = (await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows
    .map((r) => r.tablename as string)
    .filter((n) => !skipTable(n))
    .sort();
  // One round trip per digest: each table's rows as text, ordered, hashed by PostgreSQL.
  const sql = `SELECT ${tables.map((t) => `(SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM "${t}" x)`).join(' || ')} AS d`;
  return {
    async digest() {
      const h = createHash('sha256');
      h.update((await client.query(sql)).rows[0].d);
      h.update(JSON.stringify(await volume()));
      return h.digest('hex');
    },
    async close() {
      await client.end();
    },
  };
}
