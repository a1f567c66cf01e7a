// One message: author, time, Markdown body (markdown.tsx: React elements only), reactions with a
// small emoji picker, thread link with the reply count, and edit/delete for the author.
// Keyboard: each message is a tab stop (named "<author> at <time>", described by its body) and
// ↑/↓ move between messages; focus inside a message shows its actions (styles.css
// .msg:focus-within), so Tab reaches react/reply/edit/delete. The picker takes focus, moves with
// the arrow keys and closes with Escape, giving focus back to its button.
import { type KeyboardEvent, memo, useEffect, useId, useRef, useState } from 'react';
import type { Message } from '../../../src/protocol/index.js';
import { useChat, useStore } from '../hooks.js';
import { Attachments } from './Attachments.js';
import { Avatar } from './Avatar.js';
import { renderMarkdown } from '../markdown.js';
import type { Pending } from '../realtime.js';
import { nameOf } from '../store.js';

export const EMOJI = ['👍', '❤️', '😂', '🎉', '👀', '🙏', '🚀', '✅'];

/** ↑/↓ on a focused message: the previous/next message in the same list (channel or thread). */
function moveBetweenMessages(e: KeyboardEvent<HTMLElement>) {
  if (e.target !== e.currentTarget || (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') || e.altKey) return;
  const scope = e.currentTarget.closest('[role="log"], .thread-body');
  if (!scope) return;
  const all = [...scope.querySelectorAll<HTMLElement>('article[data-testid="message"]')];
  const next = all[all.indexOf(e.currentTarget) + (e.key === 'ArrowDown' ? 1 : -1)];
  if (!next) return;
  e.preventDefault();
  next.focus();
}

/** Arrow keys, Home and End move among a menu's items (the emoji picker). */
function moveInMenu(e: KeyboardEvent<HTMLElement>) {
  const items = [...e.currentTarget.querySelectorAll<HTMLElement>('[role="menuitem"]')];
  const at = items.indexOf(document.activeElement as HTMLElement);
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[e.key];
  let to: number | undefined;
  if (step !== undefined) to = (at + step + items.length) % items.length;
  else if (e.key === 'Home') to = 0;
  else if (e.key === 'End') to = items.length - 1;
  if (to === undefined) return;
  e.preventDefault();
  items[to]?.focus();
}

const time = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

export const MessageItem = memo(function MessageItem({
  message: m,
  grouped,
  focused,
  inThread,
}: {
  message: Message;
  grouped: boolean;
  focused?: boolean;
  inThread?: boolean;
}) {
  const chat = useChat();
  const users = useStore((s) => s.users);
  const meId = useStore((s) => s.me?.id);
  const [editing, setEditing] = useState(false);
  const [picker, setPicker] = useState(false);
  const self = useRef<HTMLElement>(null);
  const pickerButton = useRef<HTMLButtonElement>(null);
  const pickerMenu = useRef<HTMLDivElement>(null);
  const wasEditing = useRef(false);
  const bodyId = useId();
  const mine = m.authorId === meId;
  const name = nameOf(users, m.authorId);
  const isMention = (u: string) => [...users.values()].some((x) => x.username === u);

  // The picker takes focus when it opens (its first emoji).
  useEffect(() => {
    if (picker) pickerMenu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [picker]);
  // After an edit is saved or cancelled the edit box is gone: focus goes back to the message.
  useEffect(() => {
    if (wasEditing.current && !editing) self.current?.focus();
    wasEditing.current = editing;
  }, [editing]);
  const closePicker = () => {
    setPicker(false);
    pickerButton.current?.focus();
  };

  const saveEdit = async (text: string) => {
    try {
      if (text.trim() && text !== m.text) await chat.edit(m, text);
      setEditing(false);
    } catch (e) {
      chat.store.set({ toast: (e as Error).message });
    }
  };

  return (
    <article
      ref={self}
      className={`msg${grouped ? ' grouped' : ''}${focused ? ' focused' : ''}`}
      aria-label={`${name} at ${time(m.createdAt)}`}
      aria-describedby={bodyId}
      data-seq={m.seq}
      data-testid="message"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a message must take keyboard focus so its actions (shown on :focus-within) can be reached
      tabIndex={0}
      onKeyDown={moveBetweenMessages}
    >
      {!grouped && (
        <header>
          <Avatar userId={m.authorId} />
          <strong className="author">{name}</strong>
          <time dateTime={m.createdAt}>{time(m.createdAt)}</time>
        </header>
      )}
      <div className="body" id={bodyId}>
        {m.deletedAt ? (
          <p className="deleted">This message was deleted.</p>
        ) : editing ? (
          <EditBox initial={m.text} onSave={saveEdit} onCancel={() => setEditing(false)} />
        ) : (
          <div className="text" data-testid="message-text">
            {renderMarkdown(m.text, { isMention })}
            {m.editedAt && <small className="edited"> (edited)</small>}
          </div>
        )}
        {!m.deletedAt && <Attachments files={m.files} />}
        {m.reactions.length > 0 && (
          <div className="reactions">
            {m.reactions.map((r) => (
              <button
                type="button"
                key={r.emoji}
                className={meId && r.userIds.includes(meId) ? 'mine' : ''}
                aria-pressed={!!meId && r.userIds.includes(meId)}
                aria-label={`${r.emoji} ${r.count}`}
                onClick={() => void chat.react(m, r.emoji)}
              >
                {r.emoji} {r.count}
              </button>
            ))}
          </div>
        )}
        {!inThread && m.replyCount > 0 && (
          <button type="button" className="link replies" onClick={() => void chat.openThread(m.id)}>
            {m.replyCount} {m.replyCount === 1 ? 'reply' : 'replies'}
          </button>
        )}
      </div>
      {!m.deletedAt && !editing && (
        <div className="actions">
          <button
            type="button"
            ref={pickerButton}
            aria-label="Add reaction"
            aria-haspopup="menu"
            aria-expanded={picker}
            onClick={() => setPicker(!picker)}
          >
            ☺
          </button>
          {!inThread && (
            <button type="button" aria-label="Reply in thread" onClick={() => void chat.openThread(m.id)}>
              ↳
            </button>
          )}
          {mine && (
            <>
              <button type="button" aria-label="Edit message" onClick={() => setEditing(true)}>
                ✎
              </button>
              <button
                type="button"
                aria-label="Delete message"
                onClick={() => {
                  if (confirm('Delete this message?')) void chat.remove(m).catch((e: Error) => chat.store.set({ toast: e.message }));
                }}
              >
                ✕
              </button>
            </>
          )}
          {picker && (
            <div
              className="picker"
              role="menu"
              aria-label="Pick a reaction"
              ref={pickerMenu}
              onKeyDown={(e) => {
                if (e.key === 'Escape') {
                  e.stopPropagation();
                  closePicker();
                } else moveInMenu(e);
              }}
            >
              {EMOJI.map((e) => (
                <button
                  type="button"
                  role="menuitem"
                  key={e}
                  onClick={() => {
                    closePicker();
                    void chat.react(m, e).catch((err: Error) => chat.store.set({ toast: err.message }));
                  }}
                >
                  {e}
                </button>
              ))}
            </div>
          )}
        </div>
      )}
    </article>
  );
});

function EditBox({ initial, onSave, onCancel }: { initial: string; onSave(t: string): void; onCancel(): void }) {
  const [text, setText] = useState(initial);
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => box.current?.focus(), []);
  return (
    <div className="edit">
      <textarea
        ref={box}
        aria-label="Edit message"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            onSave(text);
          } else if (e.key === 'Escape') onCancel();
        }}
      />
      <button type="button" onClick={() => onSave(text)}>
        Save
      </button>
      <button type="button" className="link" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

export function PendingItem({ pending }: { pending: Pending }) {
  const chat = useChat();
  return (
    <article className={`msg pending${pending.failed ? ' failed' : ''}`} data-testid="pending-message">
      <div className="body">
        <div className="text">{renderMarkdown(pending.text)}</div>
        <small>
          {pending.failed ? `Not sent: ${pending.failed} ` : 'Sending…'}
          {pending.failed && (
            <button type="button" className="link" onClick={() => chat.rt?.discard(pending.clientMsgId)}>
              Dismiss
            </button>
          )}
        </small>
      </div>
    </article>
  );
}
