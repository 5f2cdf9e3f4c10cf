/**
 * The project chosen in the header's switcher, remembered in localStorage and shared by every
 * page without a provider (useSyncExternalStore). null: all projects.
 */
import { useSyncExternalStore } from 'react';

const KEY = 'ansflow.project';
const listeners = new Set<() => void>();

function read(): number | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
  } catch {
    return null;
  }
}

export function setCurrentProject(id: number | null): void {
  try {
    if (id === null) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, String(id));
  } catch {
    // storage unavailable (private mode): the choice lasts until the page reloads
  }
  for (const listener of listeners) listener();
}

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  const onStorage = (e: StorageEvent) => e.key === KEY && listener();
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
};

export function useCurrentProject(): number | null {
  return useSyncExternalStore(subscribe, read, () => null);
}
