// The composer: Enter sends, Shift+Enter adds a newline, `@` opens mention autocomplete (arrow
// keys, Enter/Tab to pick, Escape to close). Typing sends the `typing` op (throttled in chat.ts).
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import type { PublicUser } from '../../../src/protocol/index.js';
import { formatBytes } from '../files.js';
import { useChat, useStore } from '../hooks.js';

/** The `@partial` right before the caret, if any. */
export function mentionQuery(text: string, caret: number): { start: number; q: string } | null {
  const m = /(^|[\s(])@([a-z0-9._-]{0,32})$/i.exec(text.slice(0, caret));
  return m ? { start: caret - m[2].length - 1, q: m[2] } : null;
}

export function Composer({ channelId, parentId, label }: { channelId: string; parentId?: string; label: string }) {
  const chat = useChat();
  const [text, setText] = useState('');
  const [suggest, setSuggest] = useState<PublicUser[]>([]);
  const [sel, setSel] = useState(0);
  const [query, setQuery] = useState<{ start: number; q: string } | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const uploadKey = parentId ?? channelId;
  const uploads = useStore((s) => s.uploads.get(uploadKey));

  useEffect(() => {
    if (!query) return setSuggest([]);
    let live = true;
    const t = setTimeout(() => {
      chat
        .searchUsers(query.q)
        .then((u) => {
          if (!live) return;
          setSuggest(u);
          setSel(0);
        })
        .catch(() => undefined);
    }, 120);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [query, chat]);

  const pick = (u: PublicUser) => {
    if (!query) return;
    const caret = ref.current?.selectionStart ?? text.length;
    const next = `${text.slice(0, query.start)}@${u.username} ${text.slice(caret)}`;
    setText(next);
    setQuery(null);
    requestAnimationFrame(() => {
      const pos = query.start + u.username.length + 2;
      ref.current?.setSelectionRange(pos, pos);
      ref.current?.focus();
    });
  };

  const send = () => {
    if (!chat.send(channelId, text, parentId)) return;
    setText('');
    setQuery(null);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (query && suggest.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        setSel((sel + (e.key === 'ArrowDown' ? 1 : suggest.length - 1)) % suggest.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        pick(suggest[sel]);
        return;
      }
      if (e.key === 'Escape') {
        e.stopPropagation();
        setQuery(null);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  };

  const listId = `mentions-${parentId ?? channelId}`;
  return (
    <div className="composer">
      {uploads && uploads.length > 0 && (
        <ul className="uploads" aria-label="Attachments">
          {uploads.map((u) => (
            <li key={u.key} data-testid="upload">
              <span className="file-name">{u.name}</span>
              {u.state === 'uploading' && <progress max={u.size || 1} value={u.loaded} aria-label={`Uploading ${u.name}`} />}
              <small>
                {u.state === 'failed'
                  ? `Failed: ${u.error}`
                  : u.state === 'done'
                    ? `${formatBytes(u.size)} ✓`
                    : `${formatBytes(u.loaded)} / ${formatBytes(u.size)}`}
              </small>
              <button
                type="button"
                aria-label={`${u.state === 'uploading' ? 'Cancel' : 'Remove'} ${u.name}`}
                onClick={() => chat.removeUpload(uploadKey, u.key)}
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
      <input
        ref={fileInput}
        type="file"
        multiple
        hidden
        aria-label="Attach files"
        onChange={(e) => {
          chat.uploadFiles(channelId, [...(e.target.files ?? [])], parentId);
          e.target.value = '';
        }}
      />
      <button type="button" aria-label="Attach files" onClick={() => fileInput.current?.click()}>
        +
      </button>
      {query && suggest.length > 0 && (
        <div className="suggest" role="listbox" id={listId} aria-label="Mention someone">
          {suggest.map((u, i) => (
            <div
              key={u.id}
              role="option"
              tabIndex={-1}
              aria-selected={i === sel}
              className={i === sel ? 'sel' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(u);
              }}
            >
              <strong>{u.displayName}</strong> <small>@{u.username}</small>
            </div>
          ))}
        </div>
      )}
      <textarea
        ref={ref}
        aria-label={label}
        placeholder={label}
        value={text}
        rows={1}
        role="combobox"
        aria-expanded={!!query && suggest.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        onChange={(e) => {
          setText(e.target.value);
          setQuery(mentionQuery(e.target.value, e.target.selectionStart));
          if (e.target.value) chat.typing(channelId);
        }}
        onKeyDown={onKeyDown}
      />
      <button type="button" onClick={send} aria-label="Send">
        Send
      </button>
    </div>
  );
}
