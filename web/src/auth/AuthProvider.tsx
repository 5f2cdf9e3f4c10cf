/**
 * Who is logged in. Watches the session (this tab and others); when it ends because tokens expired,
 * the user is sent to login and comes back to the page they were on.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import * as endpoints from '../api/endpoints';
import { endSession, getTokens, hasSession, onSessionChange, setSession, type SessionEndReason } from '../api/session';
import type { Me } from '../api/types';

type AuthStatus = 'loading' | 'authenticated' | 'anonymous';

interface AuthContextValue {
  status: AuthStatus;
  user: Me | null;
  /** Why the last session ended, for the login page ("your session expired"). */
  endedBecause: SessionEndReason | null;
  login(username: string, password: string): Promise<void>;
  /** Starts the session with tokens obtained otherwise (single sign-on's code exchange). */
  adoptSession(tokens: { access: string; refresh: string }): Promise<void>;
  logout(): Promise<void>;
  /** Re-reads the user from the server, or takes `me` when the caller already has it (PATCH answers with it). */
  refreshUser(me?: Me): Promise<void>;
}

const AuthContext = createContext<AuthContextValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<AuthStatus>(hasSession() ? 'loading' : 'anonymous');
  const [user, setUser] = useState<Me | null>(null);
  const [endedBecause, setEndedBecause] = useState<SessionEndReason | null>(null);
  const userRef = useRef<Me | null>(null);
  userRef.current = user;

  /** The GET /api/users/me/ in flight, shared so login and the session listener make one request. */
  const pendingUser = useRef<Promise<void> | null>(null);

  const fetchUser = useCallback(async () => {
    try {
      const me = await endpoints.getMe();
      setUser(me);
      setStatus('authenticated');
    } catch {
      if (!hasSession()) {
        setUser(null);
        setStatus('anonymous');
      } else {
        // server unreachable: keep the session, show the app (pages show their own errors)
        setStatus('authenticated');
      }
    }
  }, []);

  const loadUser = useCallback((): Promise<void> => {
    pendingUser.current ??= fetchUser().finally(() => {
      pendingUser.current = null;
    });
    return pendingUser.current;
  }, [fetchUser]);

  const refreshUser = useCallback(
    async (me?: Me) => {
      if (!me) return loadUser();
      setUser(me);
      setStatus('authenticated');
    },
    [loadUser],
  );

  useEffect(() => {
    if (hasSession()) void loadUser();
    return onSessionChange((tokens, reason) => {
      if (!tokens) {
        setUser(null);
        setStatus('anonymous');
        setEndedBecause(reason);
      } else if (!userRef.current) {
        // logged in from another tab
        void loadUser();
      }
    });
  }, [loadUser]);

  const login = useCallback(
    async (username: string, password: string) => {
      const result = await endpoints.login(username, password);
      setEndedBecause(null);
      setSession({ access: result.access, refresh: result.refresh });
      await loadUser();
    },
    [loadUser],
  );

  const adoptSession = useCallback(
    async (tokens: { access: string; refresh: string }) => {
      setEndedBecause(null);
      setSession(tokens);
      await loadUser();
    },
    [loadUser],
  );

  const logout = useCallback(async () => {
    const tokens = getTokens();
    endSession('logout');
    if (tokens) await endpoints.logout(tokens.refresh).catch(() => undefined);
  }, []);

  const value = useMemo<AuthContextValue>(
    () => ({ status, user, endedBecause, login, adoptSession, logout, refreshUser }),
    [status, user, endedBecause, login, adoptSession, logout, refreshUser],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}

/** Whether the user may change a pipeline (admins; developers on their own). */
export function canEditPipeline(user: Me | null, createdBy: { id: number } | null | undefined): boolean {
  if (!user) return false;
  if (user.role === 'admin') return true;
  return user.role === 'developer' && createdBy?.id === user.id;
}

export function canRun(user: Me | null): boolean {
  return user?.role === 'admin' || user?.role === 'developer';
}
