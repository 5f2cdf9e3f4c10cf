/** Typed calls for every API resource the UI uses. */
import { api, request, type Query } from './client';
import type {
  AppConfig,
  Artifact,
  Caches,
  Credential,
  CredentialSummary,
  LoginResponse,
  Me,
  Page,
  PipelineDetail,
  PipelineSummary,
  Role,
  Run,
  RunStatus,
  StepType,
  User,
  VariableValue,
  WebhookDelivery,
} from './types';
import type { PipelinePayload } from '../forms/pipeline-form-model';
import type { CredentialBody } from '../credentials/credential-form';

type Signal = { signal?: AbortSignal };

/* auth */
export const login = (username: string, password: string) =>
  api<LoginResponse>('/api/auth/login/', { method: 'POST', body: { username, password }, anonymous: true });
export const logout = (refresh: string) => api<void>('/api/auth/logout/', { method: 'POST', body: { refresh }, anonymous: true });

/* config */
export const getConfig = (o: Signal = {}) => api<AppConfig>('/api/config/', { ...o, anonymous: true });

/* me and users */
export const getMe = (o: Signal = {}) => api<Me>('/api/users/me/', o);
export const updateMe = (body: Partial<Pick<Me, 'email' | 'first_name' | 'last_name'>>) => api<Me>('/api/users/me/', { method: 'PATCH', body });
export const changePassword = (current_password: string, new_password: string) =>
  api<void>('/api/users/me/password/', { method: 'POST', body: { current_password, new_password } });
export const listUsers = (query: Query, o: Signal = {}) => api<Page<User>>('/api/users/', { ...o, query });
export interface NewUser {
  username: string;
  password: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  role: Role;
}
export const createUser = (body: NewUser) => api<User>('/api/users/', { method: 'POST', body });
export const updateUser = (id: number, body: Partial<Pick<User, 'role' | 'is_active' | 'email' | 'first_name' | 'last_name'>>) =>
  api<User>(`/api/users/${id}/`, { method: 'PATCH', body });

/* pipelines */
export const listPipelines = (query: Query, o: Signal = {}) => api<Page<PipelineSummary>>('/api/pipelines/', { ...o, query });
export const getPipeline = (id: number | string, o: Signal = {}) => api<PipelineDetail>(`/api/pipelines/${id}/`, o);
export const createPipeline = (body: PipelinePayload) => api<PipelineDetail>('/api/pipelines/', { method: 'POST', body });
export const replacePipeline = (id: number | string, body: PipelinePayload) => api<PipelineDetail>(`/api/pipelines/${id}/`, { method: 'PUT', body });
export const patchPipeline = (id: number | string, body: Partial<PipelinePayload>) => api<PipelineDetail>(`/api/pipelines/${id}/`, { method: 'PATCH', body });
export const deletePipeline = (id: number | string) => api<void>(`/api/pipelines/${id}/`, { method: 'DELETE' });
export const listStepTypes = (o: Signal = {}) => api<{ results: StepType[] }>('/api/step-types/', o);

/* runs */
export interface RunRequest {
  branch?: string;
  variables?: Record<string, VariableValue>;
  inputs?: Record<string, string | number | boolean>;
}
export const runPipeline = (id: number | string, body: RunRequest) => api<Run>(`/api/pipelines/${id}/run/`, { method: 'POST', body });
export const listPipelineRuns = (id: number | string, query: Query, o: Signal = {}) => api<Page<Run>>(`/api/pipelines/${id}/runs/`, { ...o, query });
export const listRuns = (query: Query & { status?: RunStatus | '' }, o: Signal = {}) => api<Page<Run>>('/api/pipeline-runs/', { ...o, query });
export const getRun = (id: number | string, o: Signal = {}) => api<Run>(`/api/pipeline-runs/${id}/`, o);
export const cancelRun = (id: number | string) => api<unknown>(`/api/pipeline-runs/${id}/cancel/`, { method: 'POST' });

/** A run's log (or one step's), from a byte offset. */
export async function getRunLog(
  runId: number | string,
  options: { step?: number | null; offset?: number; signal?: AbortSignal } = {},
): Promise<{ text: string; nextOffset: number | null }> {
  const res = await request(`/api/pipeline-runs/${runId}/logs/`, {
    query: { step: options.step ?? undefined, offset: options.offset || undefined },
    signal: options.signal,
  });
  const text = await res.text();
  const header = res.headers.get('X-Next-Offset');
  return { text, nextOffset: header !== null && /^\d+$/.test(header) ? Number(header) : null };
}

/** A run's whole log as a file, for download. */
export async function downloadRunLog(runId: number | string): Promise<Blob> {
  const res = await request(`/api/pipeline-runs/${runId}/logs/`);
  return res.blob();
}

/* build outputs (docs/artifacts.md) */
export const listArtifacts = (runId: number | string, o: Signal = {}) =>
  api<{ count: number; results: Artifact[] }>(`/api/pipeline-runs/${runId}/artifacts/`, o);
/** An artifact (or one of its files) as a blob: downloads need the access token, which a plain link would not send. */
export async function downloadArtifact(url: string): Promise<Blob> {
  return (await request(url)).blob();
}
export const retryRun = (runId: number | string, from: 'failed' | number) => api<Run>(`/api/pipeline-runs/${runId}/retry/`, { method: 'POST', body: { from } });
export const listCaches = (pipelineId: number | string, o: Signal = {}) => api<Caches>(`/api/pipelines/${pipelineId}/caches/`, o);
export const clearCaches = (pipelineId: number | string, cacheId?: number) =>
  api<{ deleted: number }>(`/api/pipelines/${pipelineId}/caches/${cacheId === undefined ? '' : `${cacheId}/`}`, { method: 'DELETE' });

/* credentials */
export const listCredentials = (query: Query, o: Signal = {}) => api<Page<Credential>>('/api/credentials/', { ...o, query });
export const createCredential = (body: CredentialBody) => api<Credential>('/api/credentials/', { method: 'POST', body });
export const updateCredential = (id: number, body: CredentialBody) => api<Credential>(`/api/credentials/${id}/`, { method: 'PUT', body });
/** 409 naming the pipelines that use it, unless `force`. */
export const deleteCredential = (id: number, force = false) =>
  api<void>(`/api/credentials/${id}/`, { method: 'DELETE', ...(force ? { query: { force: true } } : {}) });

/** Every credential's name and kind, page after page (the editor's credential choices). */
export async function listAllCredentials(o: Signal = {}): Promise<CredentialSummary[]> {
  const all: CredentialSummary[] = [];
  for (let page = 1; ; page++) {
    const result = await listCredentials({ page, page_size: 100 }, o);
    all.push(...result.results);
    if (!result.next || page >= 50) return all;
  }
}

/* webhooks */
export const listDeliveries = (query: Query, o: Signal = {}) => api<Page<WebhookDelivery>>('/api/webhook-deliveries/', { ...o, query });
export const redeliver = (id: number | string) => api<unknown>(`/api/webhook-deliveries/${id}/redeliver/`, { method: 'POST' });

/* Ansible (docs/ansible.md) */
export type HostResult = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped' | 'rescued' | 'ignored';
export interface AnsibleStepResults {
  run_id: number;
  step_id: number;
  plays: Array<{ id: string; name: string; tasks: string[] }>;
  tasks: Array<{
    id: string;
    play_id: string;
    name: string;
    action: string;
    handler: boolean;
    started_at: string;
    hosts: Record<string, { status: HostResult; duration_ms: number | null; message: string | null }>;
  }>;
  recap: Record<string, Record<HostResult, number>>;
  finished: boolean;
  hosts: string[];
  /** The highest event seq included (WebSocket events up to it are already in). */
  last_seq: number;
}
export const getAnsibleResults = (runId: number | string, stepId: number, o: Signal = {}) =>
  api<AnsibleStepResults>(`/api/pipeline-runs/${runId}/steps/${stepId}/ansible/`, o);
export const rerunFailedHosts = (runId: number | string) =>
  api<{ run: Run; failed: string[]; unreachable: string[]; limit: string }>(`/api/pipeline-runs/${runId}/rerun-failed-hosts/`, { method: 'POST' });

/* inventories (docs/ansible.md) */
export interface HostFacts {
  system: string | null;
  os_family: string | null;
  distribution: string | null;
  distribution_version: string | null;
  distribution_release: string | null;
  kernel: string | null;
  architecture: string | null;
  hostname: string | null;
  fqdn: string | null;
  default_ipv4: string | null;
  ipv4_addresses: string[];
  ipv6_addresses: string[];
  python_version: string | null;
  python_executable: string | null;
}
export type HostCheckStatus = 'reachable' | 'unreachable' | 'failed';
export interface HostCheck {
  status: HostCheckStatus;
  reason: string | null;
  facts: HostFacts | null;
  checked_at: string;
}
export interface Inventory {
  id: number;
  project_id: number;
  name: string;
  description: string;
  format: 'ini' | 'yaml';
  content: string;
  ssh_credential: string | null;
  become_credential: string | null;
  vault_credentials: string[];
  version: number;
  host_count: number;
  created_by: { id: number; username: string } | null;
  updated_by: { id: number; username: string } | null;
  created_at: string;
  updated_at: string;
}
export interface InventoryBody {
  name: string;
  description?: string;
  format: 'ini' | 'yaml';
  content: string;
  project?: number;
  ssh_credential?: string | null;
  become_credential?: string | null;
  vault_credentials?: string[];
}
export interface InventoryVersion {
  version: number;
  format: 'ini' | 'yaml';
  content: string;
  ssh_credential: string | null;
  become_credential: string | null;
  vault_credentials: string[];
  created_by: { id: number; username: string } | null;
  created_at: string;
}
export interface InventoryHost {
  name: string;
  groups: string[];
  vars: Record<string, unknown>;
  check: HostCheck | null;
}
export interface InventoryCheck {
  id: number;
  inventory_id: number;
  status: 'running' | 'finished' | 'error';
  limit: string | null;
  host_count: number;
  results: Array<HostCheck & { host: string }>;
  counts: Record<HostCheckStatus, number>;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}
/**
 * What the gateway's inventory feed (`/ws/inventories/{id}`) sends: first `inventory_feed` (the feed
 * is in place; the latest check with all its results and its tally, or null), then each check's
 * start, each host's answer (one host in `results`) and its end (`counts`: the tally) as
 * `inventory_check`. Results merge by host (inventories/check-live.ts).
 */
export interface InventoryCheckMessage {
  type: 'inventory_check';
  data: InventoryCheckData;
}
export interface InventoryFeedMessage {
  type: 'inventory_feed';
  data: { inventory_id: number; latest: InventoryCheckData | null };
}
export interface InventoryCheckData {
  inventory_id: number;
  check_id: number;
  status: InventoryCheck['status'];
  host_count: number;
  limit: string | null;
  results: InventoryCheck['results'];
  counts: InventoryCheck['counts'] | null;
  error: string | null;
  at: string;
}
export const listInventories = (query: Query, o: Signal = {}) => api<Page<Inventory>>('/api/inventories/', { ...o, query });
export const getInventory = (id: number | string, o: Signal = {}) => api<Inventory>(`/api/inventories/${id}/`, o);
export const createInventory = (body: InventoryBody) => api<Inventory>('/api/inventories/', { method: 'POST', body });
export const updateInventory = (id: number | string, body: InventoryBody) => api<Inventory>(`/api/inventories/${id}/`, { method: 'PUT', body });
export const deleteInventory = (id: number | string) => api<void>(`/api/inventories/${id}/`, { method: 'DELETE' });
export const listInventoryVersions = (id: number | string, o: Signal = {}) => api<InventoryVersion[]>(`/api/inventories/${id}/versions/`, o);
export const diffInventory = (id: number | string, from: number, to: number, o: Signal = {}) =>
  api<{ from: number; to: number; diff: string }>(`/api/inventories/${id}/diff/`, { ...o, query: { from, to } });
export const restoreInventoryVersion = (id: number | string, version: number) =>
  api<Inventory>(`/api/inventories/${id}/versions/${version}/restore/`, { method: 'POST' });
export const listInventoryHosts = (id: number | string, o: Signal = {}) => api<InventoryHost[]>(`/api/inventories/${id}/hosts/`, o);
export const checkInventory = (id: number | string, limit?: string) =>
  api<InventoryCheck>(`/api/inventories/${id}/check/`, { method: 'POST', body: limit ? { limit } : {} });
export const getInventoryCheck = (id: number | string, checkId: number, o: Signal = {}) => api<InventoryCheck>(`/api/inventories/${id}/checks/${checkId}/`, o);
