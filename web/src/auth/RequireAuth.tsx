/** Routes behind login: anonymous visitors go to /login?next=<where they were>. */
import { Navigate, Outlet, useLocation } from 'react-router-dom';
import { useAuth } from './AuthProvider';
import { Loading } from '../components/Feedback';

export function RequireAuth() {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'loading') return <Loading />;
  if (status === 'anonymous') {
    const next = `${location.pathname}${location.search}${location.hash}`;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <Outlet />;
}

export function RequireAdmin() {
  const { user } = useAuth();
  if (user && user.role !== 'admin') {
    return (
      <div className="page">
        <div className="banner banner-error">Only administrators can manage users.</div>
      </div>
    );
  }
  return <Outlet />;
}

/** A safe in-app path to return to after login (never another origin). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/login')) return '/pipelines';
  return next;
}
