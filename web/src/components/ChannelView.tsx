// One open channel: header (name, topic, leave), the message list, who is typing, the composer.
import { useEffect, useState } from 'react';
import { useChat, useStore } from '../hooks.js';
import { channelLabel, nameOf } from '../store.js';
import { Composer } from './Composer.js';
import type { DialogName } from './Dialogs.js';
import { MessageList } from './MessageList.js';

export function ChannelView({ channelId }: { channelId: string; openDialog(d: DialogName): void }) {
  const chat = useChat();
  const c = useStore((s) => s.channels.get(channelId));
  const users = useStore((s) => s.users);
  const meId = useStore((s) => s.me?.id);
  const typing = useStore((s) => s.typing.get(channelId));
  const [, tick] = useState(0);
  const [dragging, setDragging] = useState(false);

  // Typing entries expire on their own; re-render once a second while any is shown.
  useEffect(() => {
    if (!typing || typing.size === 0) return;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [typing]);

  if (!c) return <p className="empty">This channel is not in your list.</p>;
  const label = channelLabel(c, users, meId);
  const typers = [...(typing ?? new Map()).entries()].filter(([, until]) => until > Date.now()).map(([u]) => nameOf(users, u));
  const isRoom = c.type === 'public' || c.type === 'private';

  return (
    <section
      className={`channel${dragging ? ' dragging' : ''}`}
      aria-labelledby="channel-title"
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        if (e.dataTransfer.files.length) chat.uploadFiles(channelId, [...e.dataTransfer.files]);
      }}
    >
      <header className="channel-head">
        <h1 id="channel-title">
          {isRoom ? '# ' : ''}
          {label}
        </h1>
        {c.topic && <p className="topic">{c.topic}</p>}
        {!c.topic && c.description && <p className="topic">{c.description}</p>}
        {isRoom && (
          <button type="button" className="link" onClick={() => void chat.leave(c.id)}>
            Leave
          </button>
        )}
      </header>
      <MessageList channelId={channelId} />
      <div className="typing" aria-live="polite" data-testid="typing">
        {typers.length > 0 && `${typers.join(', ')} ${typers.length === 1 ? 'is' : 'are'} typing…`}
      </div>
      <Composer channelId={channelId} label={`Message ${isRoom ? '#' : ''}${label}`} />
    </section>
  );
}
