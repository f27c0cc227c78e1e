// Login page, shown when GET /api/session is 401: an API key field, POST /api/session.
import { useState } from 'preact/hooks';
import { login, type Session } from '../api';
import { errorText } from '../components/Status';

export function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!key.trim()) { setError('Enter an API key.'); return; }
    setBusy(true); setError('');
    try { onLogin(await login(key.trim())); } catch (err) { setError(errorText(err)); } finally { setBusy(false); }
  };
  return (
    <main class="center">
      <form class="card login" onSubmit={submit} data-testid="login-form" noValidate>
        <h1>Stratus console</h1>
        <p class="muted">Sign in with an API key (<code>stk_…</code>), or open the one-time link that <code>stratus up</code> printed.</p>
        <div class="field">
          <label for="apikey">API key</label>
          <input id="apikey" type="password" autocomplete="current-password" value={key} data-testid="login-key"
                 aria-invalid={error ? 'true' : undefined} aria-describedby={error ? 'login-error' : undefined}
                 onInput={(e) => setKey((e.target as HTMLInputElement).value)} autoFocus />
          {error && <p id="login-error" class="field-error" role="alert" data-testid="login-error">{error}</p>}
        </div>
        <button type="submit" disabled={busy} data-testid="login-submit">{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
