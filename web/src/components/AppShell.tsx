/** The frame around every signed-in page: header, navigation, theme toggle, user menu. */
import { Suspense } from 'react';
import { NavLink, Outlet, Link } from 'react-router-dom';
import { useAuth } from '../auth/AuthProvider';
import { ThemeToggle } from './ThemeToggle';
import { UserMenu } from './UserMenu';
import { Loading } from './Feedback';
import { ProjectSwitcher } from '../projects/ProjectSwitcher';
import { useProjects } from '../projects/use-projects';

export function AppShell() {
  const { user } = useAuth();
  const { projects } = useProjects();
  // Admins read the whole audit log; maintainers and owners their projects' events.
  const readsAudit = user?.role === 'admin' || projects.some((p) => p.my_role === 'owner' || p.my_role === 'maintainer');
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link to="/pipelines" className="brand">
          <img src="/favicon.svg" alt="" />
          AnsFlow
        </Link>
        <nav className="main-nav" aria-label="Main">
          <NavLink to="/pipelines">Pipelines</NavLink>
          <NavLink to="/runs">Runs</NavLink>
          <NavLink to="/environments">Environments</NavLink>
          <NavLink to="/notifications">Notifications</NavLink>
          <NavLink to="/webhooks">Webhooks</NavLink>
          <NavLink to="/credentials">Credentials</NavLink>
          <NavLink to="/inventories">Inventories</NavLink>
          <NavLink to="/projects">Projects</NavLink>
          <NavLink to="/system">System</NavLink>
          {user?.role === 'admin' && <NavLink to="/admin/users">Users</NavLink>}
          {readsAudit && <NavLink to="/admin/audit">Audit log</NavLink>}
        </nav>
        <div className="header-tools">
          <ProjectSwitcher />
          <ThemeToggle />
          <UserMenu />
        </div>
      </header>
      <main id="main">
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
    </>
  );
}
