// A user's avatar: the WebP thumbnail of their avatar image, fetched with the bearer token as a
// blob: URL (files.ts: an <img src> cannot send it), else their initials. The server lets every
// signed-in user read a file that is someone's current avatar (docs/API.md); a thumbnail that is
// missing or fails (an image over the pixel limit, a former avatar) shows the initials.
import { useEffect, useState } from 'react';
import { authedBlobUrl } from '../files.js';
import { useChat, useStore } from '../hooks.js';
import { nameOf } from '../store.js';

/** Up to two letters: the first of the first two words ("Ada Lovelace" → "AL"). */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => [...w][0] ?? '');
  return letters.join('').toUpperCase() || '?';
}

/** The thumbnail URL of an avatar file (built here: importing protocol/files.ts would bundle TypeBox). */
export const avatarThumbUrl = (fileId: string) => `/api/files/${encodeURIComponent(fileId)}/thumbnail`;

/** blob: URL for `url`, null while loading, when absent, or when the read failed. Resets when `url` changes. */
function useAvatarBlob(url: string | undefined): string | null {
  const chat = useChat();
  const [src, setSrc] = useState<{ url: string; blob: string } | null>(null);
  useEffect(() => {
    if (!url) return;
    let live = true;
    authedBlobUrl(chat.api, url).then(
      (blob) => live && setSrc({ url, blob }),
      () => live && setSrc(null),
    );
    return () => {
      live = false;
    };
  }, [url, chat]);
  return src && src.url === url ? src.blob : null;
}

export function Avatar({ userId, size = 'md', className = '' }: { userId: string; size?: 'sm' | 'md' | 'lg'; className?: string }) {
  const users = useStore((s) => s.users);
  const me = useStore((s) => s.me);
  const user = me?.id === userId ? me : users.get(userId);
  const fileId = user?.avatarFileId ?? undefined;
  const src = useAvatarBlob(fileId ? avatarThumbUrl(fileId) : undefined);
  return (
    <span className={`avatar avatar-${size} ${className}`.trim()} aria-hidden="true" data-avatar-user={userId}>
      {src ? <img src={src} alt="" data-testid="avatar-img" /> : initials(nameOf(users, userId))}
    </span>
  );
}
