// Keeping other people's profiles (display name, status, avatar) fresh. The server does not push
// profile changes (no user.* event in protocol/ws.ts), so the client re-reads the profiles it
// knows: when the connection comes back online after a drop, when the tab becomes visible again,
// and every few minutes while it is visible — at most once a minute, in batches of a few reads.
import type { PublicUser } from '../../src/protocol/index.js';
import type { Chat } from './chat.js';

const MIN_GAP_MS = 60_000;
const PERIOD_MS = 5 * 60_000;
/** Reads in flight at once (a workspace where one knows hundreds of people stays gentle). */
const PARALLEL = 6;

/** Re-reads every known profile but one's own (the PATCH reply keeps that one current). */
export async function refreshProfiles(chat: Chat): Promise<void> {
  const st = chat.store.get();
  const ids = [...st.users.keys()].filter((id) => id !== st.me?.id);
  for (let i = 0; i < ids.length; i += PARALLEL) {
    const got = await Promise.all(
      ids.slice(i, i + PARALLEL).map((id) => chat.api.get<PublicUser>(`/api/users/${encodeURIComponent(id)}`).catch(() => null)),
    );
    chat.store.setUsers(got.filter((u): u is PublicUser => u !== null));
  }
}

/** Starts the triggers above; returns the function that stops them (sign-out, unmount). */
export function watchProfiles(chat: Chat): () => void {
  let last = Date.now();
  let wasOnline = chat.store.get().conn === 'online';
  const maybe = () => {
    if (document.visibilityState !== 'visible' || Date.now() - last < MIN_GAP_MS) return;
    last = Date.now();
    void refreshProfiles(chat);
  };
  const unsubscribe = chat.store.subscribe(() => {
    const online = chat.store.get().conn === 'online';
    if (online && !wasOnline) maybe();
    wasOnline = online;
  });
  document.addEventListener('visibilitychange', maybe);
  const timer = setInterval(maybe, PERIOD_MS);
  return () => {
    unsubscribe();
    document.removeEventListener('visibilitychange', maybe);
    clearInterval(timer);
  };
}
