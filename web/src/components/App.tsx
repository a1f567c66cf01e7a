// The app shell: auth gate, sidebar, the open channel, the thread panel, dialogs, the connection
// banner, theme and the global shortcuts (Ctrl/Cmd+K quick switcher, Escape closes).
import { useEffect, useState } from 'react';
import { useChat, useStore } from '../hooks.js';
import { watchProfiles } from '../profiles.js';
import { sidebarOrder } from '../store.js';
import { Auth } from './Auth.js';
import { ChannelView } from './ChannelView.js';
import { type DialogName, Dialogs } from './Dialogs.js';
import { Sidebar } from './Sidebar.js';
import { ThreadPanel } from './ThreadPanel.js';

export type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const saved = localStorage.getItem('nchat.theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App() {
  const chat = useChat();
  const [signedIn, setSignedIn] = useState(() => chat.api.current !== null);
  const [bootError, setBootError] = useState('');
  const [dialog, setDialog] = useState<DialogName | null>(null);
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [navOpen, setNavOpen] = useState(false);
  const me = useStore((s) => s.me);
  const conn = useStore((s) => s.conn);
  const current = useStore((s) => s.currentChannelId);
  const thread = useStore((s) => s.threadRootId);
  const toast = useStore((s) => s.toast);

  useEffect(() => chat.api.onSession((s) => setSignedIn(s !== null)), [chat]);
  // Others' profile changes are not pushed: re-read them now and then (profiles.ts).
  useEffect(() => (signedIn ? watchProfiles(chat) : undefined), [signedIn, chat]);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('nchat.theme', theme);
  }, [theme]);

  useEffect(() => {
    if (!signedIn) return;
    setBootError('');
    chat
      .boot()
      .then(() => {
        const m = /^#\/c\/([0-9a-z]{22})$/.exec(location.hash);
        const first = chat.store.get().channels.keys().next().value;
        const id = m && chat.store.get().channels.has(m[1]) ? m[1] : first;
        if (id) void chat.openChannel(id);
      })
      .catch((e: Error) => setBootError(e.message));
    return () => chat.rt?.stop();
  }, [signedIn, chat]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setDialog('switcher');
      } else if (e.key === 'Escape') setDialog(null);
      else if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
        // Alt+↑/↓: previous/next channel in the sidebar's order.
        e.preventDefault();
        const { rooms, dms } = sidebarOrder(chat.store.get().channels);
        const order = [...rooms, ...dms];
        const at = order.findIndex((c) => c.id === chat.store.get().currentChannelId);
        const next = order[(at + (e.key === 'ArrowDown' ? 1 : order.length - 1) + order.length) % order.length];
        if (next) void chat.openChannel(next.id);
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [chat]);

  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => chat.store.set({ toast: null }), 5000);
    return () => clearTimeout(t);
  }, [toast, chat]);

  if (!signedIn) return <Auth onSignedIn={() => setSignedIn(true)} />;
  if (!me) return <main className="loading">{bootError ? <p role="alert">{bootError}</p> : <p>Loading…</p>}</main>;

  return (
    <div className={`shell${thread ? ' with-thread' : ''}${navOpen ? ' nav-open' : ''}`}>
      {conn !== 'online' && (
        <div className="banner" role="status" data-testid="conn-banner">
          {conn === 'offline' ? 'Offline — reconnecting… messages you send will go out when the connection is back.' : 'Connecting…'}
        </div>
      )}
      <Sidebar
        open={(d) => {
          setDialog(d);
          setNavOpen(false);
        }}
        theme={theme}
        toggleTheme={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
        onNavigate={() => setNavOpen(false)}
      />
      <main className="main" aria-label="Messages">
        <button type="button" className="nav-toggle" aria-label="Show channels" onClick={() => setNavOpen(!navOpen)}>
          ☰
        </button>
        {current ? (
          <ChannelView key={current} channelId={current} openDialog={setDialog} />
        ) : (
          <p className="empty">Pick or create a channel.</p>
        )}
      </main>
      {thread && <ThreadPanel rootId={thread} />}
      {dialog && <Dialogs name={dialog} close={() => setDialog(null)} />}
      {toast && (
        <div className="toast" role="alert">
          {toast}
        </div>
      )}
    </div>
  );
}
