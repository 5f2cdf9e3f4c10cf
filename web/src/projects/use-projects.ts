/** The projects the caller may see; reloaded wherever they are shown when one is created, changed or deleted. */
import { useEffect } from 'react';
import { listAllProjects, type Project } from '../api/projects';
import { useAsync } from '../lib/use-async';

const listeners = new Set<() => void>();

/** Tells every mounted project list (the header's switcher, the forms' choices) to load again. */
export function projectsChanged(): void {
  for (const listener of listeners) listener();
}

export function useProjects(): { projects: Project[]; loading: boolean; reload: () => void } {
  const state = useAsync((signal) => listAllProjects({ signal }), []);
  const { reload } = state;
  useEffect(() => {
    listeners.add(reload);
    return () => {
      listeners.delete(reload);
    };
  }, [reload]);
  return { projects: state.data ?? [], loading: state.loading, reload };
}
