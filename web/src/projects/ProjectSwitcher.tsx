/** The header's project switcher: filters the pipelines and runs lists; the choice is remembered. */
import { useEffect } from 'react';
import { setCurrentProject, useCurrentProject } from './current-project';
import { useProjects } from './use-projects';
import './projects.css';

export function ProjectSwitcher() {
  const current = useCurrentProject();
  const { projects, loading } = useProjects();
  // A remembered project that is gone (deleted, or no longer a member) falls back to all.
  useEffect(() => {
    if (!loading && current !== null && projects.length > 0 && !projects.some((p) => p.id === current)) setCurrentProject(null);
  }, [loading, current, projects]);
  return (
    <label className="project-switcher">
      <span className="visually-hidden">Project</span>
      <select
        className="select input-sm"
        value={current === null ? '' : String(current)}
        onChange={(e) => setCurrentProject(e.target.value === '' ? null : Number(e.target.value))}
        data-testid="project-switcher"
        aria-label="Project"
      >
        <option value="">All projects</option>
        {projects.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
    </label>
  );
}
