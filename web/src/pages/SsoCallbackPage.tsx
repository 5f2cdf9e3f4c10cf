/**
 * Where single sign-on lands: the server put a one-time code in the URL fragment (never sent to a
 * server, nor in a Referer). It is taken out of the address bar at once, exchanged (POST, with the
 * sign-in's cookie) for the session's tokens, and the user goes on to the page they asked for.
 */
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth/AuthProvider';
import { safeNext } from '../auth/RequireAuth';
import { exchangeSsoCode } from '../api/sso';
import { errorMessage } from '../api/api-error';
import '../styles/login.css';

export default function SsoCallbackPage() {
  const { adoptSession } = useAuth();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const code = new URLSearchParams(window.location.hash.slice(1)).get('code');
    window.history.replaceState(null, '', window.location.pathname);
    if (!code) {
      setError('The sign-in did not complete (no sign-in code).');
      return;
    }
    exchangeSsoCode(code)
      .then(async (result) => {
        await adoptSession({ access: result.access, refresh: result.refresh });
        navigate(safeNext(result.next), { replace: true });
      })
      .catch((err: unknown) => setError(errorMessage(err)));
  }, [adoptSession, navigate]);

  return (
    <div className="login-screen">
      <div className="login-card card" data-testid="sso-callback">
        {error ? (
          <>
            <div className="banner banner-error" role="alert" data-testid="sso-callback-error">
              {error}
            </div>
            <Link to="/login">Back to sign-in</Link>
          </>
        ) : (
          <p className="muted">Signing you in…</p>
        )}
      </div>
    </div>
  );
}
