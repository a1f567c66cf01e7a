// Files on two nodes sharing PostgreSQL, Redis and one files volume (docs/OPERATIONS.md "Several
// nodes"): uploaded through node A, downloaded and thumbnailed through node B, and `file.ready`
// published on node A reaches the uploader's socket on node B through Redis.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { loadConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server/main.js';
import { getBytes, sha256, upload, waitThumbnail } from '../helpers/files.js';
import { type FreshPostgres, freshPostgres, pgSkipReason } from '../helpers/postgres.js';
import { freshRedis, redisSkip } from '../helpers/redis.js';
import { Api, unique } from '../helpers/server.js';
import { Client, ok } from './harness.js';

const skip = (await pgSkipReason()) ?? (await redisSkip());

describe('files on two nodes: PostgreSQL + Redis + a shared files volume', { skip: skip || false }, () => {
  let db: FreshPostgres | undefined;
  let dir: string;
  const nodes: RunningServer[] = [];
  const clients: Client[] = [];
  before(async () => {
    db = await freshPostgres();
    dir = await mkdtemp(join(tmpdir(), 'nchat-files-cluster-'));
    const redisUrl = freshRedis();
    for (let i = 0; i < 2; i++) {
      const env = {
        NCHAT_PORT: '0',
        NCHAT_HOST: '127.0.0.1',
        // One data dir for both: on PostgreSQL it holds only the files volume.
        NCHAT_DATA_DIR: dir,
        NCHAT_DATABASE_URL: db!.url,
        NCHAT_DB_POOL_SIZE: '5',
        NCHAT_REDIS_URL: redisUrl,
        NCHAT_LOG_LEVEL: process.env.NCHAT_TEST_LOG ?? 'silent',
        NCHAT_ARGON2_MEMORY_KIB: '1024',
        NCHAT_SIGNIN_LIMIT_IP: '100000',
      };
      nodes.push(await startServer(loadConfig({}, env)));
    }
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const n of nodes) await n.close();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('upload on A; file.ready on B through Redis; bob reads the bytes and the thumbnail through B', async () => {
    const [a, b] = nodes;
    const api = new Api(a.url);
    const signup = async (prefix: string) => {
      const username = unique(prefix);
      const r = await ok(
        api.post('/api/auth/signup', { email: `${username}@example.test`, username, password: 'correct horse battery' }),
        201,
      );
      return { id: r.user.id as string, token: r.accessToken as string, api: api.as(r.accessToken) };
    };
    const alice = await signup('alice');
    const bob = await signup('bob');
    const aliceOnB = await Client.open(b, alice.token);
    clients.push(aliceOnB);
    const ch = await ok(alice.api.post('/api/channels', { name: unique('fc'), type: 'private' }), 201);
    await ok(alice.api.post(`/api/channels/${ch.id}/members`, { userIds: [bob.id] }));

    const img = await sharp(randomBytes(900 * 600 * 3), { raw: { width: 900, height: 600, channels: 3 } })
      .png()
      .toBuffer();
    const up = await upload(a.url, alice, img, { name: 'shared.png' });
    assert.equal(up.status, 201);
    const ready = await aliceOnB.waitFor((e) => e.type === 'file.ready' && e.fileId === up.body.id, 20_000);
    assert.equal(ready.thumbnailUrl, up.body.thumbnailUrl);

    await ok(alice.api.post(`/api/channels/${ch.id}/messages`, { text: 'on A', fileIds: [up.body.id] }), 201);
    const bytes = await getBytes(b.url, bob, up.body.url);
    assert.equal(bytes.status, 200);
    assert.equal(sha256(bytes.bytes), up.body.sha256);
    const thumb = await waitThumbnail(b.url, bob, up.body.id);
    assert.equal(thumb.status, 200);
    assert.equal((await sharp(thumb.bytes).metadata()).width, 400);
  });
});
