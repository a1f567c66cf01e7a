// A thread in the side panel: the root, its replies (live), and a composer that replies.
import { useChat, useStore } from '../hooks.js';
import { Composer } from './Composer.js';
import { MessageItem, PendingItem } from './MessageItem.js';

export function ThreadPanel({ rootId }: { rootId: string }) {
  const chat = useChat();
  const msgs = useStore((s) => s.threads.get(rootId));
  const outbox = useStore((s) => s.outbox);
  const root = msgs?.find((m) => m.id === rootId);
  const replies = msgs?.filter((m) => m.id !== rootId) ?? [];
  return (
    <aside className="thread" aria-label="Thread">
      <header>
        <h2>Thread</h2>
        <button type="button" aria-label="Close thread" onClick={() => void chat.openThread(null)}>
          ✕
        </button>
      </header>
      <div className="thread-body">
        {root ? <MessageItem message={root} grouped={false} inThread /> : <p>Loading…</p>}
        <p className="reply-count">
          {replies.length} {replies.length === 1 ? 'reply' : 'replies'}
        </p>
        {replies.map((m) => (
          <MessageItem key={m.id} message={m} grouped={false} inThread />
        ))}
        {outbox
          .filter((p) => p.parentId === rootId)
          .map((p) => (
            <PendingItem key={p.clientMsgId} pending={p} />
          ))}
      </div>
      {root && <Composer channelId={root.channelId} parentId={rootId} label="Reply in thread" />}
    </aside>
  );
}
