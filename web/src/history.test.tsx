// A channel's loaded history stays one contiguous seq range: a jump to an older message replaces
// the range with the page around it, paging forward (after=) fills it up to the newest message,
// and a live message that would leave a hole waits for those pages. The server is a stubbed fetch
// that answers GET /api/channels/:id/messages like docs/API.md says (before= newest first,
// after= oldest first, limit); the controller, store, REST client and message list are the real ones.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChannelListItem, Message, ServerEvent } from '../../src/protocol/index.js';
import { Chat } from './chat.js';
import { MessageList } from './components/MessageList.js';
import { ChatContext } from './hooks.js';
import { act, mount, TEST_CHANNEL, testMessage } from './test-utils.js';

const CH = TEST_CHANNEL;
const msg = (seq: number): Message => testMessage(seq);

/** The fake server: the channel's messages, the history requests seen, and an optional gate that holds replies. */
let server: { messages: Message[]; requests: string[]; gate: Promise<void> | null };

function history(url: URL): Message[] {
  const before = url.searchParams.get('before');
  const after = url.searchParams.get('after');
  const limit = Number(url.searchParams.get('limit') ?? 50);
  if (after !== null) return server.messages.filter((m) => m.seq > Number(after)).slice(0, limit);
  const upTo = before === null ? Number.POSITIVE_INFINITY : Number(before);
  return server.messages
    .filter((m) => m.seq < upTo)
    .reverse()
    .slice(0, limit);
}

beforeEach(() => {
  server = { messages: Array.from({ length: 300 }, (_, i) => msg(i + 1)), requests: [], gate: null };
  vi.stubGlobal('fetch', async (path: string, init?: RequestInit) => {
    const url = new URL(path, 'http://nchat.test');
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    const reaction = /^\/api\/messages\/([^/]+)\/reactions\/(.+)$/.exec(url.pathname);
    if (reaction && init?.method === 'PUT') {
      const m = server.messages.find((x) => x.id === reaction[1])!;
      m.reactions = [{ emoji: decodeURIComponent(reaction[2]), count: 1, userIds: ['a'.repeat(22)] }];
      return json(200, m);
    }
    if (url.pathname !== `/api/channels/${CH}/messages`) return json(404, { error: { code: 'NOT_FOUND', message: 'not here' } });
    server.requests.push(url.search);
    const reply = history(url); // the server reads now; the reply may arrive later (gate)
    if (server.gate) await server.gate;
    return json(200, { messages: reply });
  });
});
afterEach(() => vi.unstubAllGlobals());

function newChat(): Chat {
  const chat = new Chat();
  chat.store.setChannels([
    { id: CH, type: 'public', name: 'history', lastSeq: 300, readSeq: 300, unreadCount: 0, mentionCount: 0 } as ChannelListItem,
  ]);
  return chat;
}

const seqs = (chat: Chat) => chat.store.channelMessages(CH).list.map((m) => m.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A new message on the server and its live event (what the realtime client hands the controller). */
function live(chat: Chat, seq: number): void {
  const m = msg(seq);
  server.messages.push(m);
  (chat as unknown as { onEvent(e: ServerEvent): void }).onEvent({
    type: 'message.created',
    channelId: CH,
    seq,
    message: m,
  } as ServerEvent);
}

/** A gate for the next replies: they are computed when asked, delivered when released. */
function hold(): () => void {
  let release!: () => void;
  server.gate = new Promise<void>((r) => {
    release = r;
  });
  return () => {
    server.gate = null;
    release();
  };
}

describe('history after a jump', () => {
  it('replaces the range with the page around the target, then pages forward to the newest without a hole', async () => {
    const chat = newChat();
    await chat.openChannel(CH);
    expect(seqs(chat)).toEqual(range(251, 300));

    await chat.openChannel(CH, 40);
    expect(server.requests.at(-1)).toBe('?after=14&limit=50');
    expect(seqs(chat)).toEqual(range(15, 64));
    expect(chat.store.get().focusSeq).toBe(40);
    expect(chat.store.channelMessages(CH)).toMatchObject({ hasNewer: true, complete: false });

    await chat.loadNewer(CH);
    expect(server.requests.at(-1)).toBe('?after=64&limit=100');
    expect(seqs(chat)).toEqual(range(15, 164));
    await chat.loadNewer(CH);
    await chat.loadNewer(CH);
    expect(seqs(chat)).toEqual(range(15, 300));
    expect(chat.store.channelMessages(CH).hasNewer).toBe(false);

    // Nothing newer is asked for once the end is reached; older pages still join at the top.
    const asked = server.requests.length;
    await chat.loadNewer(CH);
    expect(server.requests.length).toBe(asked);
    await chat.loadOlder(CH);
    expect(seqs(chat)).toEqual(range(1, 300));
    expect(chat.store.channelMessages(CH).complete).toBe(true);
  });

  it('a live message while newer pages are missing is not appended (no hole) but is counted; once paged to the end, live messages append again', async () => {
    const chat = newChat();
    await chat.openChannel(CH, 1);
    expect(seqs(chat)).toEqual(range(1, 50));

    live(chat, 301); // not shown, so unread even in the open channel
    expect(seqs(chat)).toEqual(range(1, 50));
    expect(chat.store.get().channels.get(CH)).toMatchObject({ lastSeq: 301, unreadCount: 1 });

    await chat.loadNewer(CH);
    await chat.loadNewer(CH);
    await chat.loadNewer(CH);
    expect(seqs(chat)).toEqual(range(1, 301));
    expect(chat.store.channelMessages(CH).hasNewer).toBe(false);

    live(chat, 302);
    live(chat, 302); // a repeat (replay) is stored once
    expect(seqs(chat)).toEqual(range(1, 302));
    expect(chat.store.get().channels.get(CH)?.lastSeq).toBe(302);
  });

  it('a live message that arrives while the last forward page is on its way is paged in, not lost', async () => {
    const chat = newChat();
    await chat.openChannel(CH, 260);
    expect(seqs(chat)).toEqual(range(235, 284));
    expect(chat.store.channelMessages(CH).hasNewer).toBe(true);

    const release = hold();
    const paging = chat.loadNewer(CH); // the server answers 285–300 now…
    live(chat, 301); // …then 301 is sent; its event comes first and does not continue 235–284
    expect(seqs(chat)).toEqual(range(235, 284));
    release();
    await paging;
    // 285–300 arrived short of the channel's lastSeq (301): more is owed.
    expect(seqs(chat)).toEqual(range(235, 300));
    expect(chat.store.channelMessages(CH).hasNewer).toBe(true);
    await chat.loadNewer(CH);
    expect(seqs(chat)).toEqual(range(235, 301));
    expect(chat.store.channelMessages(CH).hasNewer).toBe(false);
  });

  it('a live message that continues the range joins it even while newer pages are owed', async () => {
    const chat = newChat();
    await chat.openChannel(CH, 276);
    // A full page (251–300) that happens to end at the newest message: more may exist.
    expect(seqs(chat)).toEqual(range(251, 300));
    expect(chat.store.channelMessages(CH).hasNewer).toBe(true);
    live(chat, 301);
    expect(seqs(chat)).toEqual(range(251, 301));
    await chat.loadNewer(CH); // after=301: nothing, the paging ends
    expect(server.requests.at(-1)).toBe('?after=301&limit=100');
    expect(chat.store.channelMessages(CH).hasNewer).toBe(false);
    live(chat, 302);
    expect(seqs(chat)).toEqual(range(251, 302));
  });

  it('drops an older page asked for before a jump, and coming back without a target shows the latest page again', async () => {
    const chat = newChat();
    await chat.openChannel(CH);
    const release = hold();
    const older = chat.loadOlder(CH); // before=251: 151–250
    const jump = chat.openChannel(CH, 40);
    release();
    await Promise.all([older, jump]);
    expect(seqs(chat)).toEqual(range(15, 64));

    await chat.openChannel(CH);
    expect(seqs(chat)).toEqual(range(251, 300));
    expect(chat.store.channelMessages(CH).hasNewer).toBe(false);
    expect(chat.store.get().focusSeq).toBeNull();
  });

  it('a reaction on a thread message outside the loaded range updates the thread, not the range', async () => {
    const chat = newChat();
    await chat.openChannel(CH, 40);
    const root = server.messages[199];
    chat.store.mergeThread(root.id, [root]);
    await chat.react(root, '🎉');
    expect(seqs(chat)).toEqual(range(15, 64));
    expect(chat.store.get().threads.get(root.id)?.[0].reactions).toEqual([{ emoji: '🎉', count: 1, userIds: ['a'.repeat(22)] }]);
  });

  it('the message list pages forward by itself while its end is in view (jsdom has no layout: the end always is)', async () => {
    const chat = newChat();
    await chat.openChannel(CH, 40);
    const m = await mount(
      <ChatContext.Provider value={chat}>
        <MessageList channelId={CH} />
      </ChatContext.Provider>,
    );
    try {
      for (let i = 0; i < 20 && chat.store.channelMessages(CH).hasNewer; i++)
        await act(async () => {
          await new Promise((r) => setTimeout(r, 5));
        });
      expect(seqs(chat)).toEqual(range(15, 300));
      expect(server.requests.filter((q) => q.startsWith('?after=')).slice(1)).toEqual([
        '?after=64&limit=100',
        '?after=164&limit=100',
        '?after=264&limit=100',
      ]);
    } finally {
      m.unmount();
    }
  });
});
