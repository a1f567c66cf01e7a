// Channels (unread and mention badges), DMs (presence dots), and the entry points to browse,
// create, start a DM, notifications, profile, theme and sign-out.
import type { ChannelListItem } from '../../../src/protocol/index.js';
import { badgeText } from '../counts.js';
import { useChat, useStore } from '../hooks.js';
import { channelLabel, sidebarOrder } from '../store.js';
import type { Theme } from './App.js';
import { Avatar } from './Avatar.js';
import type { DialogName } from './Dialogs.js';

interface Props {
  open(d: DialogName): void;
  theme: Theme;
  toggleTheme(): void;
  onNavigate(): void;
}

export function Sidebar({ open, theme, toggleTheme, onNavigate }: Props) {
  const chat = useChat();
  const channels = useStore((s) => s.channels);
  const users = useStore((s) => s.users);
  const presence = useStore((s) => s.presence);
  const me = useStore((s) => s.me)!;
  const current = useStore((s) => s.currentChannelId);
  const unreadNotes = useStore((s) => s.notifications.filter((n) => !n.readAt).length);
  const { rooms, dms } = sidebarOrder(channels);

  const item = (c: ChannelListItem) => {
    const label = channelLabel(c, users, me.id);
    const unread = c.unreadCount ?? 0;
    const mentions = c.mentionCount ?? 0;
    const other = c.type === 'direct' ? (c.dmUserIds ?? []).find((u) => u !== me.id) : undefined;
    const status = other ? (presence.get(other) ?? 'offline') : undefined;
    return (
      <li key={c.id}>
        <a
          href={`#/c/${c.id}`}
          className={`chan${c.id === current ? ' active' : ''}${unread ? ' unread' : ''}`}
          aria-current={c.id === current ? 'page' : undefined}
          onClick={(e) => {
            e.preventDefault();
            onNavigate();
            void chat.openChannel(c.id);
          }}
        >
          {other && status ? (
            <span className="dm-face">
              <Avatar userId={other} size="sm" />
              <span className={`dot ${status}`} role="img" aria-label={status} />
            </span>
          ) : (
            <span aria-hidden="true">{c.type === 'private' ? '🔒' : '#'}</span>
          )}
          <span className="label">{label}</span>
          {mentions > 0 && (
            <span className="badge mention-badge" role="img" aria-label={`${mentions} mentions`}>
              @{badgeText(mentions)}
            </span>
          )}
          {unread > 0 && mentions === 0 && (
            <span className="badge" role="img" aria-label={`${unread} unread`}>
              {badgeText(unread)}
            </span>
          )}
        </a>
      </li>
    );
  };

  return (
    <nav className="sidebar" aria-label="Channels">
      <header className="me">
        <button type="button" className="link" onClick={() => open('profile')} title="Profile">
          <Avatar userId={me.id} size="sm" className="me-avatar" />
          <strong>{me.displayName}</strong>
          {me.status && <small className="status-text">{me.status}</small>}
        </button>
      </header>
      <div className="side-actions">
        <button type="button" onClick={() => open('search')}>
          Search
        </button>
        <button type="button" onClick={() => open('notifications')} aria-label={`Notifications (${unreadNotes} unread)`}>
          Inbox{unreadNotes > 0 && <span className="badge">{unreadNotes}</span>}
        </button>
      </div>
      <h2>
        Channels
        <span className="side-buttons">
          <button type="button" onClick={() => open('browse')} aria-label="Browse channels">
            ⌕
          </button>
          <button type="button" onClick={() => open('create')} aria-label="Create a channel">
            +
          </button>
        </span>
      </h2>
      <ul>{rooms.map(item)}</ul>
      <h2>
        Direct messages
        <span className="side-buttons">
          <button type="button" onClick={() => open('dm')} aria-label="Start a direct message">
            +
          </button>
        </span>
      </h2>
      <ul>{dms.map(item)}</ul>
      <footer className="side-foot">
        <button type="button" onClick={toggleTheme} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
          {theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
        <button type="button" onClick={() => open('switcher')} title="Ctrl/Cmd+K">
          Jump…
        </button>
        {(me.role === 'owner' || me.role === 'admin') && (
          <button type="button" onClick={() => open('perf')}>
            Performance
          </button>
        )}
        <button type="button" onClick={() => void chat.signout()}>
          Sign out
        </button>
      </footer>
    </nav>
  );
}
