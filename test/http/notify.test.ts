// The service half of the notification recipient rule (stated on MessageStore.create in
// store/store.ts; the store half is checked clause by clause in store/contract/notifications.ts):
// who qualifies for @username, @here, @channel and DMs, and the NCHAT_NOTIFY_CHANNEL_MAX cap,
// on SQLite and PostgreSQL, through the real send path.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { forEachBackend, unique, type TestServer, type TestUser } from '../helpers/server.js';
import { Client, until } from '../realtime/harness.js';
import { createChannel, ok, send } from './util.js';

const CAP = 3;

await forEachBackend(
  'notification recipients (service)',
  (ctx) => {
    let srv: TestServer;
    let ann: TestUser;
    let bob: TestUser;
    let cat: TestUser;
    let dan: TestUser;
    const sockets: Client[] = [];

    before(async () => {
      srv = ctx.server();
      [ann, bob, cat, dan] = [await srv.user('ann'), await srv.user('bob'), await srv.user('cat'), await srv.user('dan')];
    });
    after(() => {
      for (const c of sockets) c.ws.close();
    });

    /** A public channel of ann with the given others joined. */
    const channelWith = async (others: TestUser[]) => {
      const ch = await createChannel(ann.api, unique('nt'));
      for (const u of others) ok(await u.api.post(`/api/channels/${ch.id}/join`), 200, 'join');
      return ch;
    };
    /** user id → kind of the notifications created for one message. */
    const recipients = async (messageId: string, users: TestUser[]) => {
      const out: Record<string, string> = {};
      for (const u of users) {
        for (const n of ok(await u.api.get('/api/notifications?limit=100')).notifications)
          if (n.messageId === messageId) out[u.username] = n.kind;
      }
      return out;
    };

    it('@username: mentioned members only; a mentioned non-member gets nothing', async () => {
      const ch = await channelWith([bob, cat]);
      const m = await send(ann.api, ch.id, `hi @${bob.username} and @${dan.username}`);
      assert.deepEqual(m.mentions.userIds, [bob.id]);
      assert.deepEqual(await recipients(m.id, [ann, bob, cat, dan]), { [bob.username]: 'mention' });
    });

    it('@channel: every member but the author up to the cap; above it the mention stays, no rows', async () => {
      const small = await channelWith([bob, cat]); // 3 members = CAP
      const m = await send(ann.api, small.id, '@channel standup');
      assert.deepEqual(await recipients(m.id, [ann, bob, cat, dan]), { [bob.username]: 'mention', [cat.username]: 'mention' });
      const big = await channelWith([bob, cat, dan]); // 4 members > CAP
      const m2 = await send(ann.api, big.id, `@channel standup, @${cat.username}`);
      assert.equal(m2.mentions.channel, true);
      assert.deepEqual(await recipients(m2.id, [ann, bob, cat, dan]), { [cat.username]: 'mention' });
    });

    it('@here: members online now, up to the cap', async () => {
      const bobOnline = await Client.open({ url: srv.running.url }, bob.token);
      sockets.push(bobOnline);
      const small = await channelWith([bob, cat]);
      let m: any;
      await until(async () => {
        m = await send(ann.api, small.id, '@here anyone?');
        if (Object.keys(await recipients(m.id, [bob])).length > 0) return true;
        await new Promise((r) => setTimeout(r, 100)); // presence not registered yet
        return false;
      }, 'bob online for @here');
      assert.deepEqual(await recipients(m.id, [ann, bob, cat, dan]), { [bob.username]: 'mention' }, 'cat is offline');
      const big = await channelWith([bob, cat, dan]);
      const m2 = await send(ann.api, big.id, '@here anyone?');
      assert.deepEqual(await recipients(m2.id, [ann, bob, cat, dan]), {}, 'above the cap @here notifies nobody');
    });

    it('direct and group messages: every other member gets "dm", with no cap', async () => {
      const group = ok(await ann.api.post('/api/dms', { userIds: [bob.id, cat.id, dan.id] }), 200);
      const m = await send(ann.api, group.id, 'group hello');
      assert.deepEqual(await recipients(m.id, [ann, bob, cat, dan]), { [bob.username]: 'dm', [cat.username]: 'dm', [dan.username]: 'dm' });
    });

    it('thread reply: the root author and earlier repliers get "reply"; a mention wins over it', async () => {
      const ch = await channelWith([bob, cat, dan]);
      const root = await send(bob.api, ch.id, 'root');
      await send(cat.api, ch.id, 'first reply', { parentId: root.id });
      const m = await send(ann.api, ch.id, `second reply @${cat.username}`, { parentId: root.id });
      assert.deepEqual(await recipients(m.id, [ann, bob, cat, dan]), { [bob.username]: 'reply', [cat.username]: 'mention' });
    });
  },
  { NCHAT_NOTIFY_CHANNEL_MAX: String(CAP) },
);
