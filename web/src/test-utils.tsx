// Component-test helpers: render into a jsdom container with React's act(), no extra library.
import { act, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import type { Message } from '../../src/protocol/index.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export interface Mounted {
  container: HTMLDivElement;
  root: Root;
  unmount(): void;
}

export async function mount(node: ReactNode): Promise<Mounted> {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const root = createRoot(container);
  await act(async () => root.render(node));
  return {
    container,
    root,
    unmount: () => {
      act(() => root.unmount());
      container.remove();
    },
  };
}

export { act };

/** The channel id the message fixtures use. */
export const TEST_CHANNEL = 'c'.repeat(22);

/**
 * A message of TEST_CHANNEL with seq `seq`: a 22-character id made from the seq, one second per
 * seq from 2026-11-30 08:00 UTC, plain text; `over` replaces any field.
 */
export function testMessage(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: `m${String(seq).padStart(21, '0')}`,
    channelId: TEST_CHANNEL,
    seq,
    authorId: 'a'.repeat(22),
    text: `message ${seq}`,
    createdAt: new Date(Date.UTC(2026, 10, 30, 8) + seq * 1000).toISOString(),
    editedAt: null,
    deletedAt: null,
    parentId: null,
    replyCount: 0,
    lastReplyAt: null,
    reactions: [],
    mentions: { userIds: [], channel: false, here: false },
    files: [],
    clientMsgId: null,
    ...over,
  };
}
