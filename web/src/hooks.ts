// React access to the controller and its store.
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Chat } from './chat.js';
import type { State } from './store.js';

export const ChatContext = createContext<Chat | null>(null);

export function useChat(): Chat {
  const c = useContext(ChatContext);
  if (!c) throw new Error('ChatContext missing');
  return c;
}

/** A slice of the state; the component re-renders only when the slice's reference changes. */
export function useStore<T>(select: (s: State) => T): T {
  const chat = useChat();
  return useSyncExternalStore(chat.store.subscribe, () => select(chat.store.get()));
}
