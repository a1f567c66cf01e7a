// Modal dialogs: browse/join public channels, create a channel, start a DM or group DM, the quick
// switcher (Ctrl/Cmd+K), the notifications inbox, the profile, search, the admin performance page.
// Each is a labelled dialog that takes focus, keeps Tab inside (focus-trap.ts) and closes with
// Escape (handled in App).
import { type FormEvent, type ReactNode, lazy, Suspense, useEffect, useMemo, useRef, useState } from 'react';
import type { ChannelListItem, PublicUser } from '../../../src/protocol/index.js';
import { ApiError } from '../api.js';
import { trapTarget } from '../focus-trap.js';
import { notificationPhrase } from '../notification-text.js';
import { useChat, useStore } from '../hooks.js';
import { channelLabel, nameOf } from '../store.js';
import { Profile } from './Profile.js';

const SearchPanel = lazy(() => import('./SearchPanel.js'));
const PerfPage = lazy(() => import('./PerfPage.js'));

export type DialogName = 'browse' | 'create' | 'dm' | 'switcher' | 'notifications' | 'profile' | 'search' | 'perf';

export function Dialogs({ name, close }: { name: DialogName; close(): void }) {
  const body: Record<DialogName, [string, ReactNode]> = {
    browse: ['Browse channels', <Browse key="b" close={close} />],
    create: ['Create a channel', <Create key="c" close={close} />],
    dm: ['Start a direct message', <StartDm key="d" close={close} />],
    switcher: ['Jump to…', <Switcher key="s" close={close} />],
    notifications: ['Inbox', <Inbox key="n" close={close} />],
    profile: ['Your profile', <Profile key="p" close={close} />],
    search: ['Search', <SearchPanel key="q" close={close} />],
    perf: ['Performance reports', <PerfPage key="r" />],
  };
  const [title, content] = body[name];
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const prev = document.activeElement as HTMLElement | null;
    ref.current?.querySelector<HTMLElement>('input, button, [tabindex]')?.focus();
    return () => prev?.focus?.();
  }, []);
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a click on the backdrop closes; keyboard users have Escape and the Close button
    <div
      className="overlay"
      role="presentation"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) close();
      }}
    >
      <div
        className={`dialog dialog-${name}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby="dialog-title"
        ref={ref}
        onKeyDown={(e) => {
          if (e.key !== 'Tab' || !ref.current) return;
          const to = trapTarget(ref.current, document.activeElement, e.shiftKey);
          if (to) {
            e.preventDefault();
            to.focus();
          }
        }}
      >
        <header>
          <h2 id="dialog-title">{title}</h2>
          <button type="button" aria-label="Close" onClick={close}>
            ✕
          </button>
        </header>
        <Suspense fallback={<p>Loading…</p>}>{content}</Suspense>
      </div>
    </div>
  );
}

function useErr(): [string, (e: unknown) => void, () => void] {
  const [err, setErr] = useState('');
  return [err, (e) => setErr(e instanceof ApiError || e instanceof Error ? e.message : 'failed'), () => setErr('')];
}

function Browse({ close }: { close(): void }) {
  const chat = useChat();
  const mine = useStore((s) => s.channels);
  const [list, setList] = useState<ChannelListItem[] | null>(null);
  const [err, fail] = useErr();
  useEffect(() => void chat.browse().then(setList, fail), [chat]);
  if (!list) return <p>{err || 'Loading…'}</p>;
  return (
    <ul className="list">
      {list.length === 0 && <li>No public channels yet.</li>}
      {list.map((c) => (
        <li key={c.id}>
          <span>
            # {c.name} <small>{c.memberCount} members</small>
            {c.description && <small className="desc">{c.description}</small>}
          </span>
          {mine.has(c.id) ? (
            <button
              type="button"
              onClick={() => {
                close();
                void chat.openChannel(c.id);
              }}
            >
              Open
            </button>
          ) : (
            <button
              type="button"
              onClick={() =>
                void chat.join(c.id).then(() => {
                  close();
                  return chat.openChannel(c.id);
                }, fail)
              }
            >
              Join
            </button>
          )}
        </li>
      ))}
      {err && <li role="alert">{err}</li>}
    </ul>
  );
}

function Create({ close }: { close(): void }) {
  const chat = useChat();
  const [err, fail] = useErr();
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    try {
      const c = await chat.createChannel(
        String(f.get('name')),
        f.get('private') ? 'private' : 'public',
        String(f.get('description') ?? ''),
      );
      close();
      void chat.openChannel(c.id);
    } catch (x) {
      fail(x);
    }
  };
  return (
    <form onSubmit={submit} className="form">
      <label>
        Name
        <input name="name" required maxLength={80} pattern="[\p{L}\p{N}][\p{L}\p{N}._\-]{0,79}" title="letters, digits, . _ -" />
      </label>
      <label>
        Description
        <input name="description" maxLength={1000} />
      </label>
      <label className="check">
        <input type="checkbox" name="private" /> Private
      </label>
      {err && <p role="alert">{err}</p>}
      <button type="submit">Create</button>
    </form>
  );
}

function UserPicker({ onPick }: { onPick(u: PublicUser): void }) {
  const chat = useChat();
  const meId = useStore((s) => s.me?.id);
  const [q, setQ] = useState('');
  const [found, setFound] = useState<PublicUser[]>([]);
  useEffect(() => {
    const t = setTimeout(
      () =>
        void chat.searchUsers(q).then(
          (u) => setFound(u.filter((x) => x.id !== meId)),
          () => setFound([]),
        ),
      150,
    );
    return () => clearTimeout(t);
  }, [q, chat, meId]);
  return (
    <>
      <input aria-label="Find people" placeholder="Find people" value={q} onChange={(e) => setQ(e.target.value)} />
      <ul className="list">
        {found.map((u) => (
          <li key={u.id}>
            <span>
              {u.displayName} <small>@{u.username}</small>
            </span>
            <button type="button" onClick={() => onPick(u)}>
              Add
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

function StartDm({ close }: { close(): void }) {
  const chat = useChat();
  const [picked, setPicked] = useState<PublicUser[]>([]);
  const [err, fail] = useErr();
  const go = async () => {
    try {
      const c = await chat.startDm(picked.map((u) => u.id));
      close();
      void chat.openChannel(c.id);
    } catch (e) {
      fail(e);
    }
  };
  return (
    <div className="form">
      <p aria-live="polite">
        {picked.length ? `With: ${picked.map((u) => u.displayName).join(', ')}` : 'Pick one person, or several for a group.'}
      </p>
      <UserPicker onPick={(u) => setPicked((p) => (p.some((x) => x.id === u.id) || p.length >= 8 ? p : [...p, u]))} />
      {err && <p role="alert">{err}</p>}
      <button type="button" disabled={picked.length === 0} onClick={() => void go()}>
        Start
      </button>
    </div>
  );
}

function Switcher({ close }: { close(): void }) {
  const chat = useChat();
  const channels = useStore((s) => s.channels);
  const users = useStore((s) => s.users);
  const meId = useStore((s) => s.me?.id);
  const [q, setQ] = useState('');
  const [sel, setSel] = useState(0);
  const items = useMemo(
    () =>
      [...channels.values()]
        .map((c) => ({ c, label: channelLabel(c, users, meId) }))
        .filter((x) => x.label.toLowerCase().includes(q.toLowerCase()))
        .sort((a, b) => (b.c.unreadCount ?? 0) - (a.c.unreadCount ?? 0) || a.label.localeCompare(b.label))
        .slice(0, 12),
    [channels, users, meId, q],
  );
  const go = (id: string) => {
    close();
    void chat.openChannel(id);
  };
  return (
    <div className="switcher">
      <input
        aria-label="Channel or person"
        role="combobox"
        aria-expanded="true"
        aria-controls="switcher-list"
        placeholder="Channel or person"
        value={q}
        onChange={(e) => {
          setQ(e.target.value);
          setSel(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') setSel((s) => Math.min(items.length - 1, s + 1));
          else if (e.key === 'ArrowUp') setSel((s) => Math.max(0, s - 1));
          else if (e.key === 'Enter' && items[sel]) go(items[sel].c.id);
        }}
      />
      <div className="list" role="listbox" id="switcher-list">
        {items.map((x, i) => (
          <div
            key={x.c.id}
            role="option"
            tabIndex={-1}
            aria-selected={i === sel}
            className={i === sel ? 'sel' : ''}
            onMouseDown={() => go(x.c.id)}
          >
            {x.c.type === 'public' || x.c.type === 'private' ? '# ' : '@ '}
            {x.label}
            {(x.c.unreadCount ?? 0) > 0 && <span className="badge">{x.c.unreadCount}</span>}
          </div>
        ))}
      </div>
    </div>
  );
}

function Inbox({ close }: { close(): void }) {
  const chat = useChat();
  const notes = useStore((s) => s.notifications);
  const users = useStore((s) => s.users);
  const channels = useStore((s) => s.channels);
  const meId = useStore((s) => s.me?.id);
  const [perm, setPerm] = useState(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);
  useEffect(() => void chat.loadNotifications().catch(() => undefined), [chat]);
  return (
    <div>
      <div className="row-buttons">
        <button type="button" onClick={() => void chat.readNotifications()}>
          Mark all read
        </button>
        {perm === 'default' && (
          <button type="button" onClick={() => void Notification.requestPermission().then(setPerm)}>
            Enable browser notifications
          </button>
        )}
      </div>
      <ul className="list">
        {notes.length === 0 && <li>Nothing here yet.</li>}
        {notes.map((n) => {
          const c = channels.get(n.channelId);
          return (
            <li key={n.id} className={n.readAt ? '' : 'unread'}>
              <button
                type="button"
                className="link"
                onClick={() => {
                  close();
                  void chat.openChannel(n.channelId, n.seq);
                }}
              >
                {nameOf(users, n.actorId)} {notificationPhrase(n.kind)}
                {c ? ` in ${channelLabel(c, users, meId)}` : ''}
              </button>
              <small>{new Date(n.createdAt).toLocaleString()}</small>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
