// The profile dialog: avatar (applied at once: upload, then PATCH /api/users/me {avatarFileId}),
// display name and status (saved with the form). The avatar must be a PNG, JPEG, GIF or WebP the
// user uploaded (the server answers 400 otherwise; its message is shown as is).
import { type ChangeEvent, type FormEvent, useRef, useState } from 'react';
import { ApiError } from '../api.js';
import { type Upload, upload } from '../files.js';
import { useChat, useStore } from '../hooks.js';
import { Avatar } from './Avatar.js';

const AVATAR_TYPES = 'image/png,image/jpeg,image/gif,image/webp';

function message(e: unknown): string {
  return e instanceof ApiError || e instanceof Error ? e.message : 'failed';
}

function AvatarPicker() {
  const chat = useChat();
  const me = useStore((s) => s.me)!;
  const [up, setUp] = useState<Upload | null>(null);
  const [err, setErr] = useState('');
  const input = useRef<HTMLInputElement>(null);

  const pick = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    setErr('');
    upload(chat.api, file, undefined, (u) => {
      setUp(u.state === 'uploading' ? u : null);
      if (u.state === 'failed') setErr(u.error ?? 'upload failed');
      if (u.state === 'done' && u.file) chat.updateProfile({ avatarFileId: u.file.id }).catch((x) => setErr(message(x)));
    });
  };
  const remove = () => {
    setErr('');
    chat.updateProfile({ avatarFileId: null }).catch((x) => setErr(message(x)));
  };

  return (
    <div className="avatar-picker">
      <Avatar userId={me.id} size="lg" />
      <div>
        <input ref={input} type="file" accept={AVATAR_TYPES} onChange={pick} hidden aria-label="Avatar image" data-testid="avatar-input" />
        <div className="avatar-actions">
          <button type="button" onClick={() => input.current?.click()} disabled={up !== null}>
            {me.avatarFileId ? 'Change avatar' : 'Upload avatar'}
          </button>
          {me.avatarFileId && (
            <button type="button" onClick={remove} disabled={up !== null}>
              Remove
            </button>
          )}
        </div>
        {up && (
          <p>
            <progress max={up.size} value={up.loaded} aria-label="Avatar upload" />{' '}
            <button type="button" onClick={() => up.abort()}>
              Cancel
            </button>
          </p>
        )}
        {err && <p role="alert">{err}</p>}
      </div>
    </div>
  );
}

export function Profile({ close }: { close(): void }) {
  const chat = useChat();
  const me = useStore((s) => s.me)!;
  const [err, setErr] = useState('');
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const status = String(f.get('status') ?? '').trim();
    try {
      await chat.updateProfile({ displayName: String(f.get('displayName')), status: status || null });
      close();
    } catch (x) {
      setErr(message(x));
    }
  };
  return (
    <>
      <AvatarPicker />
      <form onSubmit={submit} className="form">
        <p>
          @{me.username} · {me.email}
        </p>
        <label>
          Display name
          <input name="displayName" defaultValue={me.displayName} required maxLength={64} />
        </label>
        <label>
          Status
          <input name="status" defaultValue={me.status ?? ''} maxLength={100} placeholder="In a meeting" />
        </label>
        {err && <p role="alert">{err}</p>}
        <button type="submit">Save</button>
      </form>
    </>
  );
}
