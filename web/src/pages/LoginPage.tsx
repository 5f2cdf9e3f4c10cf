/**
 * Sign-in. After login the user returns to the page they asked for (`?next=`). The server says
 * which methods exist: single sign-on gets a "Sign in with <provider>" button; when password
 * sign-in is off the form is hidden behind a small break-glass link (for the one admin account).
 */
import { useEffect, useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { useAuth } from '../auth/AuthProvider';
import { safeNext } from '../auth/RequireAuth';
import { ApiError, errorMessage } from '../api/api-error';
import { ThemeToggle } from '../components/ThemeToggle';
import { getLoginMethods, SSO_ERRORS, startSso, type LoginMethods } from '../api/sso';
import '../styles/login.css';

export function LoginPage() {
  const { status, login, endedBecause } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(params.get('next'));
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(() => {
    const reason = params.get('sso_error');
    return reason === null ? null : (SSO_ERRORS[reason] ?? 'Single sign-on failed. Try again.');
  });
  const [methods, setMethods] = useState<LoginMethods | null>(null);
  const [breakGlass, setBreakGlass] = useState(false);

  useEffect(() => {
    // Unknown methods (server unreachable): the password form, as before single sign-on existed.
    getLoginMethods()
      .then(setMethods)
      .catch(() => setMethods({ password: true, sso: null }));
  }, []);

  if (status === 'authenticated') return <Navigate to={next} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (username.trim() === '' || password === '') {
      setError('Enter your username and password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password);
      navigate(next, { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError('Wrong username or password.');
      else setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const signInWithSso = async () => {
    setBusy(true);
    setError(null);
    try {
      const { authorization_url } = await startSso(next);
      window.location.assign(authorization_url);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  const showPassword = methods !== null && (methods.password || breakGlass);

  return (
    <div className="login-screen">
      <div className="login-theme">
        <ThemeToggle />
      </div>
      <form className="login-card card" onSubmit={submit} noValidate data-testid="login-form">
        <div className="login-brand">
          <img src="/favicon.svg" alt="" width={36} height={36} />
          <div>
            <h1>AnsFlow</h1>
            <p className="muted">Sign in to your CI/CD workspace</p>
          </div>
        </div>
        {endedBecause === 'expired' && !error && (
          <div className="banner banner-info" role="status" data-testid="session-expired">
            Your session expired. Sign in again to continue where you were.
          </div>
        )}
        {error && (
          <div className="banner banner-error" role="alert" data-testid="login-error">
            {error}
          </div>
        )}
        {methods?.sso && (
          <button type="button" className="btn btn-primary" disabled={busy} onClick={signInWithSso} data-testid="login-sso" style={{ height: 38 }}>
            Sign in with {methods.sso.name}
          </button>
        )}
        {methods?.sso && showPassword && <div className="login-or muted">or with a password</div>}
        {methods !== null && !methods.password && !breakGlass && (
          <button type="button" className="btn btn-ghost btn-sm login-break-glass" onClick={() => setBreakGlass(true)} data-testid="login-break-glass">
            Administrator sign-in (break-glass)
          </button>
        )}
        {showPassword && (
          <>
            <div className="field">
              <label className="field-label" htmlFor="login-username">
                Username
              </label>
              <input
                id="login-username"
                className="input"
                autoComplete="username"
                autoFocus={!methods?.sso}
                value={username}
                onChange={(e) => setUsername(e.target.value)}
                data-testid="login-username"
              />
            </div>
            <div className="field">
              <label className="field-label" htmlFor="login-password">
                Password
              </label>
              <input
                id="login-password"
                className="input"
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                data-testid="login-password"
              />
            </div>
            <button type="submit" className={methods?.sso ? 'btn' : 'btn btn-primary'} disabled={busy} data-testid="login-submit" style={{ height: 38 }}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </>
        )}
      </form>
    </div>
  );
}
