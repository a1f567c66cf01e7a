// Sign in / sign up. Errors come from the server's coded error body, shown as text.
import { type FormEvent, useState } from 'react';
import { ApiError } from '../api.js';
import { useChat } from '../hooks.js';

export function Auth({ onSignedIn }: { onSignedIn: () => void }) {
  const chat = useChat();
  const [mode, setMode] = useState<'signin' | 'signup'>('signin');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const v = (k: string) => String(f.get(k) ?? '');
    setBusy(true);
    setError('');
    try {
      if (mode === 'signin') await chat.api.signin(v('login'), v('password'));
      else
        await chat.api.signup({
          email: v('email'),
          username: v('username'),
          password: v('password'),
          ...(v('displayName') ? { displayName: v('displayName') } : {}),
        });
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Something went wrong');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth">
      <form onSubmit={submit} aria-labelledby="auth-title">
        <h1 id="auth-title">ɳChat — {mode === 'signin' ? 'Sign in' : 'Create an account'}</h1>
        {mode === 'signin' ? (
          <label>
            Email or username
            <input name="login" autoComplete="username" required />
          </label>
        ) : (
          <>
            <label>
              Email
              <input name="email" type="email" autoComplete="email" required />
            </label>
            <label>
              Username
              <input name="username" autoComplete="username" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{1,31}" />
            </label>
            <label>
              Display name
              <input name="displayName" maxLength={64} />
            </label>
          </>
        )}
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === 'signin' ? 'current-password' : 'new-password'}
            required
            minLength={mode === 'signup' ? 8 : 1}
          />
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {mode === 'signin' ? 'Sign in' : 'Sign up'}
        </button>
        <button type="button" className="link" onClick={() => setMode(mode === 'signin' ? 'signup' : 'signin')}>
          {mode === 'signin' ? 'No account? Sign up' : 'Have an account? Sign in'}
        </button>
      </form>
    </main>
  );
}
