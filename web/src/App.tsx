/** Routes (a data router, so the editor can block navigation with unsaved changes). Pages other than login and the pipeline list load on demand. */
import { lazy } from 'react';
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router-dom';
import { AuthProvider } from './auth/AuthProvider';
import { RequireAdmin, RequireAuth } from './auth/RequireAuth';
import { AppShell } from './components/AppShell';
import { ToastProvider } from './components/Toasts';
import { LoginPage } from './pages/LoginPage';
import SsoCallbackPage from './pages/SsoCallbackPage';
import { PipelinesPage } from './pages/PipelinesPage';
import { NotFoundPage } from './pages/NotFoundPage';

const PipelineDetailPage = lazy(() => import('./pages/PipelineDetailPage'));
const PipelineEditorPage = lazy(() => import('./pages/PipelineEditorPage'));
const PipelineFilePage = lazy(() => import('./pages/PipelineFilePage'));
const PipelineCachesPage = lazy(() => import('./pages/PipelineCachesPage'));
const RunPage = lazy(() => import('./pages/RunPage'));
const RunsPage = lazy(() => import('./pages/RunsPage'));
const WebhooksPage = lazy(() => import('./pages/WebhooksPage'));
const CredentialsPage = lazy(() => import('./pages/CredentialsPage'));
const SystemPage = lazy(() => import('./pages/SystemPage'));
const UsersPage = lazy(() => import('./pages/UsersPage'));
const ProfilePage = lazy(() => import('./pages/ProfilePage'));
const AuditPage = lazy(() => import('./pages/AuditPage'));
const ProjectsPage = lazy(() => import('./pages/ProjectsPage'));
const EnvironmentsPage = lazy(() => import('./pages/EnvironmentsPage'));
const EnvironmentPage = lazy(() => import('./pages/EnvironmentPage'));
const NotificationsPage = lazy(() => import('./pages/NotificationsPage'));
const InventoriesPage = lazy(() => import('./pages/InventoriesPage'));
const InventoryPage = lazy(() => import('./pages/InventoryPage'));

const router = createBrowserRouter([
  { path: '/login', element: <LoginPage /> },
  { path: '/sso/callback', element: <SsoCallbackPage /> },
  {
    element: <RequireAuth />,
    children: [
      {
        element: <AppShell />,
        children: [
          { index: true, element: <Navigate to="/pipelines" replace /> },
          { path: 'pipelines', element: <PipelinesPage /> },
          { path: 'pipelines/new', element: <PipelineEditorPage /> },
          { path: 'pipelines/file', element: <PipelineFilePage /> },
          { path: 'pipelines/:id', element: <PipelineDetailPage /> },
          { path: 'pipelines/:id/edit', element: <PipelineEditorPage /> },
          { path: 'pipelines/:id/caches', element: <PipelineCachesPage /> },
          { path: 'runs', element: <RunsPage /> },
          { path: 'runs/:runId', element: <RunPage /> },
          { path: 'environments', element: <EnvironmentsPage /> },
          { path: 'environments/:id', element: <EnvironmentPage /> },
          { path: 'notifications', element: <NotificationsPage /> },
          { path: 'webhooks', element: <WebhooksPage /> },
          { path: 'credentials', element: <CredentialsPage /> },
          { path: 'inventories', element: <InventoriesPage /> },
          { path: 'inventories/new', element: <InventoryPage /> },
          { path: 'inventories/:id', element: <InventoryPage /> },
          { path: 'projects', element: <ProjectsPage /> },
          { path: 'system', element: <SystemPage /> },
          { path: 'profile', element: <ProfilePage /> },
          // Maintainers and owners read their projects' events here too (the server decides what).
          { path: 'admin/audit', element: <AuditPage /> },
          {
            element: <RequireAdmin />,
            children: [{ path: 'admin/users', element: <UsersPage /> }],
          },
          { path: '*', element: <NotFoundPage /> },
        ],
      },
    ],
  },
]);

export function App() {
  return (
    <ToastProvider>
      <AuthProvider>
        <RouterProvider router={router} />
      </AuthProvider>
    </ToastProvider>
  );
}
