/**
 * Whether the user may create, change and delete environments (`manage_environments`: admins, a
 * project's maintainers and owners). The server decides; this only hides buttons that would 403.
 */
import { useAuth } from '../auth/AuthProvider';
import { useProjects } from '../projects/use-projects';

export function useCanManageEnvironments(): (projectId: number | null) => boolean {
  const { user } = useAuth();
  const { projects } = useProjects();
  return (projectId) => {
    if (user?.role === 'admin') return true;
    const manages = (role: string | null) => role === 'owner' || role === 'maintainer';
    // null: any project (the "new" button; the dialog lets them choose)
    return projectId === null ? projects.some((p) => manages(p.my_role)) : manages(projects.find((p) => p.id === projectId)?.my_role ?? null);
  };
}
