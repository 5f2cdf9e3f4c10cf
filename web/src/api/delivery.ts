/** Continuous delivery (docs/delivery.md): environments and their deployments, approval gates, schedules. */
import { api, type Query } from './client';
import type { ProjectRole } from './projects';
import type { Page, RunStatus } from './types';

type Signal = { signal?: AbortSignal };

export type TimeoutOutcome = 'reject' | 'approve';
export type Concurrency = 'queue' | 'latest';

export interface Deployment {
  run: { id: number; number: number; pipeline: { id: number | null; name: string }; status: RunStatus };
  branch: string;
  commit: string | null;
  triggered_by: string | null;
  approved_by: string[];
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface Environment {
  id: number;
  project_id: number;
  name: string;
  description: string;
  required_approvals: number;
  approvers: { users: string[]; roles: ProjectRole[] };
  prevent_self_approval: boolean;
  branches: string[];
  wait_timer_seconds: number;
  approval_timeout_seconds: number | null;
  timeout_outcome: TimeoutOutcome;
  concurrency: Concurrency | null;
  created_by: { id: number; username: string } | null;
  created_at: string;
  updated_at: string;
  /** What is live: the newest successful deployment. */
  live: Deployment | null;
}

export interface EnvironmentBody {
  name: string;
  description: string;
  project?: number;
  required_approvals: number;
  approvers: { users: string[]; roles: ProjectRole[] };
  prevent_self_approval: boolean;
  branches: string[];
  wait_timer_seconds: number;
  approval_timeout_seconds: number | null;
  timeout_outcome: TimeoutOutcome;
  concurrency: Concurrency | null;
}

export const listEnvironments = (query: Query, o: Signal = {}) => api<Page<Environment>>('/api/environments/', { ...o, query });
export const getEnvironment = (id: number | string, o: Signal = {}) => api<Environment>(`/api/environments/${id}/`, o);
export const createEnvironment = (body: EnvironmentBody) => api<Environment>('/api/environments/', { method: 'POST', body });
export const updateEnvironment = (id: number, body: EnvironmentBody) => api<Environment>(`/api/environments/${id}/`, { method: 'PUT', body });
export const deleteEnvironment = (id: number) => api<void>(`/api/environments/${id}/`, { method: 'DELETE' });
export const listDeployments = (id: number | string, query: Query, o: Signal = {}) =>
  api<Page<Deployment>>(`/api/environments/${id}/deployments/`, { ...o, query });

export type GateState = 'none' | 'waiting' | 'approved' | 'rejected' | 'timed_out' | 'cancelled';

export interface Gate {
  environment: { id: number | null; name: string } | null;
  state: GateState;
  required_approvals: number;
  approvals: number;
  approvers: string;
  can_decide: boolean;
  cannot_decide_reason: string | null;
  release_at: string | null;
  /** Set while a pull request from a fork waits for a maintainer to give it the secrets. */
  fork_pull_request?: { number: number | null; author: string; commit: string } | null;
  decisions: Array<{
    user: { id: number; username: string };
    decision: 'approve' | 'reject';
    comment: string;
    commit: string | null;
    created_at: string;
  }>;
}

export const getGate = (runId: number | string, o: Signal = {}) => api<Gate>(`/api/pipeline-runs/${runId}/approvals/`, o);
export const decideGate = (runId: number | string, decision: 'approve' | 'reject', comment: string) =>
  api<Gate>(`/api/pipeline-runs/${runId}/approvals/`, { method: 'POST', body: { decision, ...(comment.trim() ? { comment: comment.trim() } : {}) } });

export interface Schedule {
  id: number;
  pipeline_id: number;
  description: string;
  cron: string;
  timezone: string;
  branch: string | null;
  variables: Record<string, string>;
  enabled: boolean;
  catch_up: boolean;
  next_fire_at: string | null;
  next_fire_times: string[];
  recent_fires: Array<{ fire_at: string; outcome: 'started' | 'missed' | 'failed'; run_id: number | null; reason: string | null; created_at: string }>;
  created_by: { id: number; username: string } | null;
  created_at: string;
  updated_at: string;
}

export interface ScheduleBody {
  cron: string;
  timezone: string;
  branch: string | null;
  variables: Record<string, string>;
  enabled: boolean;
  catch_up: boolean;
  description: string;
}

export const listSchedules = (pipelineId: number | string, o: Signal = {}) => api<Schedule[]>(`/api/pipelines/${pipelineId}/schedules/`, o);
export const createSchedule = (pipelineId: number, body: ScheduleBody) => api<Schedule>(`/api/pipelines/${pipelineId}/schedules/`, { method: 'POST', body });
export const updateSchedule = (pipelineId: number, id: number, body: ScheduleBody) =>
  api<Schedule>(`/api/pipelines/${pipelineId}/schedules/${id}/`, { method: 'PUT', body });
export const deleteSchedule = (pipelineId: number, id: number) => api<void>(`/api/pipelines/${pipelineId}/schedules/${id}/`, { method: 'DELETE' });
