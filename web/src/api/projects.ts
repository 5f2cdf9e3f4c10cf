/** Projects and their members (docs/permissions.md). */
import { api, type Query } from './client';
import type { Page } from './types';

export type ProjectRole = 'owner' | 'maintainer' | 'developer' | 'viewer';
export const PROJECT_ROLES: ProjectRole[] = ['owner', 'maintainer', 'developer', 'viewer'];

export interface Project {
  id: number;
  name: string;
  description: string;
  created_by: { id: number; username: string } | null;
  created_at: string;
  updated_at: string;
  /** The caller's role (null: an admin who is not a member). */
  my_role: ProjectRole | null;
}

export interface ProjectMember {
  user: { id: number; username: string };
  role: ProjectRole;
  created_at: string;
}

type Signal = { signal?: AbortSignal };

export const listProjects = (query: Query, o: Signal = {}) => api<Page<Project>>('/api/projects/', { ...o, query });
export const createProject = (body: { name: string; description: string }) => api<Project>('/api/projects/', { method: 'POST', body });
export const updateProject = (id: number, body: { name: string; description: string }) => api<Project>(`/api/projects/${id}/`, { method: 'PUT', body });
export const deleteProject = (id: number) => api<void>(`/api/projects/${id}/`, { method: 'DELETE' });
export const listMembers = (id: number, o: Signal = {}) => api<ProjectMember[]>(`/api/projects/${id}/members/`, o);
export const addMember = (id: number, username: string, role: ProjectRole) =>
  api<ProjectMember>(`/api/projects/${id}/members/`, { method: 'POST', body: { username, role } });
export const changeMember = (id: number, userId: number, role: ProjectRole) =>
  api<ProjectMember>(`/api/projects/${id}/members/${userId}/`, { method: 'PUT', body: { role } });
export const removeMember = (id: number, userId: number) => api<void>(`/api/projects/${id}/members/${userId}/`, { method: 'DELETE' });

/** Every project the caller may see (the switcher and the forms' choices). */
export async function listAllProjects(o: Signal = {}): Promise<Project[]> {
  const all: Project[] = [];
  for (let page = 1; ; page++) {
    const result = await listProjects({ page, page_size: 100 }, o);
    all.push(...result.results);
    if (!result.next || page >= 20) return all;
  }
}

/** Roles the caller may manage others with: owners and admins all, maintainers up to maintainer. */
export const canManageMembers = (role: ProjectRole | null, isAdmin: boolean) => isAdmin || role === 'owner' || role === 'maintainer';
export const grantableRoles = (role: ProjectRole | null, isAdmin: boolean): ProjectRole[] =>
  isAdmin || role === 'owner' ? PROJECT_ROLES : role === 'maintainer' ? ['maintainer', 'developer', 'viewer'] : [];
