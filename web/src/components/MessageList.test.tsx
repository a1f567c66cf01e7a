// The message list with 10,000 messages in the store renders only a window of them (virtualized).
// (jsdom cannot scroll. In Chromium: the "new messages" divider in test/web/chat.test.ts; history
// loading as you scroll up, the window while scrolling through 10,000, and frame times in
// test/web/scroll.test.ts.)
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../../src/protocol/index.js';
import { Chat } from '../chat.js';
import { ChatContext } from '../hooks.js';
import { type Mounted, mount, TEST_CHANNEL, testMessage } from '../test-utils.js';
import { MessageList } from './MessageList.js';

const CH = TEST_CHANNEL;
const msg = (seq: number): Message => testMessage(seq, { authorId: seq % 2 ? 'a'.repeat(22) : 'b'.repeat(22), text: `message **${seq}**` });

let m: Mounted | undefined;
afterEach(() => m?.unmount());

// jsdom has no layout: give the scroller a 600 px viewport (the virtualizer reads clientHeight)
// so it has a window to fill, and rows a height.
Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
  configurable: true,
  get(this: HTMLElement) {
    return this.dataset?.testid === 'message-list' ? 600 : 0;
  },
});
Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 800 });
Object.defineProperty(HTMLElement.prototype, 'offsetHeight', { configurable: true, get: () => 40 });

describe('MessageList', () => {
  it('keeps only a window of 10,000 messages in the DOM', async () => {
    const chat = new Chat();
    chat.store.mergeMessages(
      CH,
      Array.from({ length: 10_000 }, (_, i) => msg(i + 1)),
      true,
    );
    chat.store.set({ currentChannelId: CH, dividerSeq: 9_990 });
    m = await mount(
      <ChatContext.Provider value={chat}>
        <div style={{ height: 600 }}>
          <MessageList channelId={CH} />
        </div>
      </ChatContext.Provider>,
    );
    const rendered = m.container.querySelectorAll('[data-testid=message]').length;
    expect(chat.store.get().messages.get(CH)?.list).toHaveLength(10_000);
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThan(100);
    expect(m.container.querySelector('[data-testid=message-text] strong')).not.toBeNull();
  });
});
