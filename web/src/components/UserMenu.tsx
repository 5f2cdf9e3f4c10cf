/** The signed-in user's menu: profile and logout. Closes on Escape and outside clicks. */
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { useAuth } from '../auth/AuthProvider';

export function UserMenu() {
  const { user, logout } = useAuth();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  if (!user) return null;
  return (
    <div className="menu" ref={ref}>
      <button type="button" className="btn btn-ghost" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen((o) => !o)} data-testid="user-menu">
        <span
          aria-hidden="true"
          style={{
            width: 24,
            height: 24,
            borderRadius: '50%',
            background: 'var(--accent-soft)',
            color: 'var(--accent)',
            display: 'inline-grid',
            placeItems: 'center',
            fontWeight: 700,
            fontSize: 12,
          }}
        >
          {user.username.slice(0, 1).toUpperCase()}
        </span>
        <span className="hide-sm">{user.username}</span>
      </button>
      {open && (
        <div className="menu-list" role="menu">
          <div className="menu-meta">
            Signed in as <strong>{user.username}</strong> · {user.role}
          </div>
          <Link to="/profile" role="menuitem" onClick={() => setOpen(false)}>
            Profile &amp; password
          </Link>
          <button
            type="button"
            role="menuitem"
            data-testid="logout"
            onClick={() => {
              setOpen(false);
              void logout().then(() => navigate('/login'));
            }}
          >
            Log out
          </button>
        </div>
      )}
    </div>
  );
}
