/** Routes. Pages other than login and the pipeline list are loaded on demand. */
import { lazy } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { AuthProvider } from './auth/AuthProvider';
import { RequireAdmin, RequireAuth } from './auth/RequireAuth';
import { AppShell } from './components/AppShell';
import { ToastProvider } from './components/Toasts';
import { LoginPage } from './pages/LoginPage';
import { PipelinesPage } from './pages/PipelinesPage';
import { NotFoundPage } from './pages/NotFoundPage';

const PipelineDetailPage = lazy(() => import('./pages/PipelineDetailPage'));
const PipelineEditorPage = lazy(() => import('./pages/PipelineEditorPage'));
const RunPage = lazy(() => import('./pages/RunPage'));
const RunsPage = lazy(() => import('./pages/RunsPage'));
const WebhooksPage = lazy(() => import('./pages/WebhooksPage'));
const SystemPage = lazy(() => import('./pages/SystemPage'));
const UsersPage = lazy(() => import('./pages/UsersPage'));
const ProfilePage = lazy(() => import('./pages/ProfilePage'));

export function App() {
  return (
    <BrowserRouter>
      <ToastProvider>
        <AuthProvider>
          <Routes>
            <Route path="/login" element={<LoginPage />} />
            <Route element={<RequireAuth />}>
              <Route element={<AppShell />}>
                <Route index element={<Navigate to="/pipelines" replace />} />
                <Route path="pipelines" element={<PipelinesPage />} />
                <Route path="pipelines/new" element={<PipelineEditorPage />} />
                <Route path="pipelines/:id" element={<PipelineDetailPage />} />
                <Route path="pipelines/:id/edit" element={<PipelineEditorPage />} />
                <Route path="runs" element={<RunsPage />} />
                <Route path="runs/:runId" element={<RunPage />} />
                <Route path="webhooks" element={<WebhooksPage />} />
                <Route path="system" element={<SystemPage />} />
                <Route path="profile" element={<ProfilePage />} />
                <Route element={<RequireAdmin />}>
                  <Route path="admin/users" element={<UsersPage />} />
                </Route>
                <Route path="*" element={<NotFoundPage />} />
              </Route>
            </Route>
          </Routes>
        </AuthProvider>
      </ToastProvider>
    </BrowserRouter>
  );
}
