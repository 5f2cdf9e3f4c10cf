/**
 * The login session: the access/refresh token pair, kept in localStorage so every tab shares it.
 *
 * Refresh tokens rotate on every use and reusing an old one revokes the whole session, so there is
 * exactly one refresh in flight: concurrent callers in this tab share one promise, and tabs take
 * turns through a Web Lock, re-reading storage inside the lock to adopt a pair another tab already
 * obtained. The access token is refreshed shortly before it expires and on any 401.
 */
import { isExpiring, refreshDelay } from '../lib/jwt';
import type { TokenPair } from './types';

const STORAGE_KEY = 'ansflow.session';
const LOCK_NAME = 'ansflow.refresh';

export type SessionEndReason = 'logout' | 'expired';
type Listener = (tokens: TokenPair | null, reason: SessionEndReason | null) => void;

let current: TokenPair | null = readStorage();
let inFlight: Promise<string | null> | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;
const listeners = new Set<Listener>();

function readStorage(): TokenPair | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<TokenPair>;
    return typeof parsed.access === 'string' && typeof parsed.refresh === 'string' ? { access: parsed.access, refresh: parsed.refresh } : null;
  } catch {
    return null;
  }
}

function writeStorage(tokens: TokenPair | null): void {
  try {
    if (tokens) localStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage unavailable (private mode): the session lives in memory only
  }
}

function notify(reason: SessionEndReason | null): void {
  for (const listener of listeners) listener(current, reason);
}

function schedule(): void {
  if (timer !== null) clearTimeout(timer);
  timer = null;
  if (!current) return;
  timer = setTimeout(
    () => {
      refreshAccessToken().catch(() => {
        // offline: the next request retries
      });
    },
    refreshDelay(current.access, Date.now()),
  );
}

export function getTokens(): TokenPair | null {
  return current;
}

export function hasSession(): boolean {
  return current !== null;
}

export function setSession(tokens: TokenPair): void {
  current = tokens;
  writeStorage(tokens);
  schedule();
  notify(null);
}

export function endSession(reason: SessionEndReason): void {
  const had = current !== null;
  current = null;
  writeStorage(null);
  schedule();
  if (had) notify(reason);
}

export function onSessionChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function exchange(refresh: string): Promise<TokenPair | 'rejected'> {
  const res = await fetch('/api/auth/refresh/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ refresh }),
  });
  if (res.status === 400 || res.status === 401 || res.status === 403) return 'rejected';
  if (!res.ok) throw new Error(`refresh failed (${res.status})`);
  const body = (await res.json()) as Partial<TokenPair>;
  if (typeof body.access !== 'string' || typeof body.refresh !== 'string') throw new Error('refresh: malformed response');
  return { access: body.access, refresh: body.refresh };
}

async function refreshUnderLock(used: string | null): Promise<string | null> {
  // another tab may have rotated the pair while we waited for the lock
  const stored = readStorage();
  if (!stored) {
    endSession('expired');
    return null;
  }
  if (stored.refresh !== used && !isExpiring(stored.access, Date.now())) {
    current = stored;
    schedule();
    notify(null);
    return stored.access;
  }
  const result = await exchange(stored.refresh);
  if (result === 'rejected') {
    endSession('expired');
    return null;
  }
  setSession(result);
  return result.access;
}

/**
 * A fresh access token, or null when the session is over (the caller goes back to login).
 * Throws only on network failure, keeping the session for a later attempt.
 */
export function refreshAccessToken(): Promise<string | null> {
  if (inFlight) return inFlight;
  const used = current?.refresh ?? null;
  const run = () => refreshUnderLock(used);
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  const started: Promise<string | null> = locks ? (locks.request(LOCK_NAME, run) as unknown as Promise<string | null>) : run();
  const shared = started.finally(() => {
    inFlight = null;
  });
  inFlight = shared;
  return shared;
}

/** The access token to send now, refreshing first when it is about to expire. */
export async function validAccessToken(): Promise<string | null> {
  if (!current) return null;
  if (isExpiring(current.access, Date.now())) return refreshAccessToken();
  return current.access;
}

// Other tabs: adopt their rotated tokens, follow their logout.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (event) => {
    if (event.key !== STORAGE_KEY) return;
    const next = readStorage();
    if (next === null) {
      if (current) {
        current = null;
        schedule();
        notify('logout');
      }
      return;
    }
    current = next;
    schedule();
    notify(null);
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && current && isExpiring(current.access, Date.now(), 60_000)) {
      refreshAccessToken().catch(() => undefined);
    }
  });
  schedule();
}
