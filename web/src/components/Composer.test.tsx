// The composer against the real controller and realtime client (not started, so sends stay in
// the outbox, exactly as when offline).
import { afterEach, describe, expect, it } from 'vitest';
import { Chat } from '../chat.js';
import { ChatContext } from '../hooks.js';
import { RealtimeClient } from '../realtime.js';
import { act, type Mounted, mount } from '../test-utils.js';
import { Composer, mentionQuery } from './Composer.js';

const CH = 'c'.repeat(22);
let m: Mounted | undefined;
afterEach(() => {
  m?.unmount();
  localStorage.clear();
});

function setup() {
  const chat = new Chat();
  chat.rt = new RealtimeClient(
    'ws://127.0.0.1:1/ws',
    {
      token: () => null,
      refresh: async () => 'failed' as const,
      revoked: () => undefined,
      event: () => undefined,
      state: (conn) => chat.store.set({ conn }),
      outbox: (outbox) => chat.store.set({ outbox }),
      holds: () => false,
      hello: () => undefined,
    },
    'test.outbox',
  );
  return chat;
}

function type(el: HTMLTextAreaElement, value: string) {
  const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
  setter.call(el, value);
  el.setSelectionRange(value.length, value.length);
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

const key = (el: Element, k: string, shiftKey = false) =>
  act(async () => {
    el.dispatchEvent(new KeyboardEvent('keydown', { key: k, shiftKey, bubbles: true, cancelable: true }));
  });

describe('Composer', () => {
  it('Enter sends (queued with a clientMsgId while offline), Shift+Enter does not', async () => {
    const chat = setup();
    m = await mount(
      <ChatContext.Provider value={chat}>
        <Composer channelId={CH} label="Message #x" />
      </ChatContext.Provider>,
    );
    const ta = m.container.querySelector('textarea')!;
    await act(async () => type(ta, 'hello **there**'));
    await key(ta, 'Enter', true);
    expect(chat.rt!.outbox).toHaveLength(0);
    await key(ta, 'Enter');
    expect(chat.rt!.outbox).toHaveLength(1);
    expect(chat.rt!.outbox[0]).toMatchObject({ channelId: CH, text: 'hello **there**' });
    expect(chat.rt!.outbox[0].clientMsgId).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
    expect(ta.value).toBe('');
    // The outbox survives a reload.
    expect(JSON.parse(localStorage.getItem('test.outbox')!)).toHaveLength(1);
  });

  it('does not send blank text', async () => {
    const chat = setup();
    m = await mount(
      <ChatContext.Provider value={chat}>
        <Composer channelId={CH} label="Message" />
      </ChatContext.Provider>,
    );
    const ta = m.container.querySelector('textarea')!;
    await act(async () => type(ta, '   '));
    await key(ta, 'Enter');
    expect(chat.rt!.outbox).toHaveLength(0);
  });
});

describe('mentionQuery', () => {
  it('finds the @word before the caret only at a word start', () => {
    expect(mentionQuery('hi @an', 6)).toEqual({ start: 3, q: 'an' });
    expect(mentionQuery('@', 1)).toEqual({ start: 0, q: '' });
    expect(mentionQuery('mail a@b', 8)).toBeNull();
    expect(mentionQuery('hi @ann there', 13)).toBeNull();
  });
});
