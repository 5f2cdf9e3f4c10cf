/** Shapes of the public API (port 8000) and the gateway (port 8001) as the UI uses them. */

export type Role = 'admin' | 'developer' | 'viewer';
export type RunStatus = 'waiting' | 'queued' | 'running' | 'success' | 'failed' | 'cancelled' | 'timeout' | 'error';
export type StepStatus = 'pending' | 'running' | 'success' | 'failed' | 'skipped' | 'cancelled' | 'timeout';
export type PipelineStatus = 'active' | 'inactive';
export type TriggerEvent = 'push' | 'pull_request' | 'tag';

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface UserRef {
  id: number;
  username: string;
}

export interface LoginResponse {
  access: string;
  refresh: string;
  user: { id: number; username: string; email: string };
}

export interface TokenPair {
  access: string;
  refresh: string;
}

export interface Me {
  id: number;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  is_active: boolean;
  date_joined: string;
  role: Role;
}

export type User = Me;

export interface LastRun {
  id: number;
  status: RunStatus;
  started_at: string | null;
  finished_at: string | null;
}

export type VariableValue = string | { value: string; secret: boolean };

export interface StepDefinition {
  name: string;
  type: string;
  config: Record<string, unknown>;
  timeout_seconds?: number | null;
  retries?: number | null;
  continue_on_error?: boolean | null;
  parallel_group?: string | null;
  credential?: string | null;
  /** Pipelines as code: the steps it waits on, when it runs, extra environment. */
  needs?: string[];
  when?: { status?: 'success' | 'failure' | 'always' };
  env?: Record<string, string>;
  network?: 'host' | 'none' | null;
  limits?: { memory?: number | string; processes?: number; cpus?: number; file_size?: number | string } | null;
}

export interface PipelineSummary {
  id: number;
  /** The project it belongs to. */
  project_id?: number;
  name: string;
  description: string;
  status: PipelineStatus;
  repository_url: string | null;
  branch: string;
  trigger_events: TriggerEvent[];
  secrets_for_forks?: boolean;
  /** The pipeline file in the repository its runs take their steps from; null: the steps stored here. */
  config_path?: string | null;
  /** Newer pushes / pull-request commits cancel older unfinished runs for the same branch or pull request. */
  auto_cancel?: boolean;
  /** The status badge is served without login. */
  badge_public?: boolean;
  /** A token credential for commit statuses; null: the server's token. */
  forge_credential?: string | null;
  created_by: UserRef | null;
  created_at: string;
  updated_at: string;
  steps_count: number;
  last_run: LastRun | null;
}

export interface PipelineDetail extends PipelineSummary {
  steps: StepDefinition[];
  variables: Record<string, VariableValue>;
  /** Launch inputs a run started by hand is given (the run dialog's form). */
  inputs?: LaunchInput[];
}

/** A launch input a pipeline declares. */
export interface LaunchInput {
  name: string;
  type: 'string' | 'choice' | 'boolean' | 'number';
  description?: string;
  required?: boolean;
  default?: string | number | boolean;
  options?: string[];
}

export interface StepType {
  id: string;
  name: string;
  description: string;
  category: string;
  icon: string;
  config_schema: Record<string, unknown>;
}

export interface CurrentStep {
  id: number;
  name: string;
  status: StepStatus;
  started_at: string | null;
}

export interface RunStep {
  id: number;
  name: string;
  type: string;
  status: StepStatus;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  attempts?: number | null;
  parallel_group?: string | null;
  /** The steps it waits on (pipelines as code); absent for a run of stored steps. */
  needs?: string[] | null;
  /** A pipeline file step's `when`: what it was planned under, and `status` (success, failure, always). */
  when?: StepConditions | null;
  duration_ms?: number | null;
  /** A retry's step that was not run again: the id of the original run's step whose result (and log) it reuses. */
  reused_from?: number | null;
}

/** A pipeline file step's `when`, each condition as a list. */
export interface StepConditions {
  branch?: string[];
  event?: string[];
  paths?: string[];
  paths_ignore?: string[];
  status?: string;
}

/** A pipeline file step that `when` left out of the run (nothing of it ran). */
export interface LeftOutStep {
  name: string;
  reason: string;
  needs: string[];
  when: StepConditions;
}

export interface RunTrigger {
  type: 'manual' | 'webhook' | 'api' | 'scheduled';
  user?: UserRef | null;
  event?: string | null;
  delivery_id?: string | number | null;
  provider?: string | null;
  author?: string | null;
}

export interface Run {
  id: number;
  number: number;
  pipeline: { id: number; name: string } | null;
  status: RunStatus;
  trigger: RunTrigger;
  branch: string | null;
  commit: string | null;
  variables?: Record<string, VariableValue> | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  progress: number;
  current_step: CurrentStep | null;
  error_reason?: string | null;
  /** Why the run got no secret variables and no credentials (`pull request from a fork`). */
  secrets_withheld?: string | null;
  /** Why the pipeline file could not be used: the run ended `error` before any step. */
  config_errors?: PipelineFileError[] | null;
  /** What the run reports on its GitHub/GitLab commit, and whether each status arrived. */
  commit_statuses?: CommitStatus[];
  steps?: RunStep[];
  /** Pipeline file steps whose `when` left them out of this run. */
  left_out_steps?: LeftOutStep[];
  /** The run this one retries (POST /api/pipeline-runs/{id}/retry/), and from which step (`failed` or a step name). */
  retry_of?: { run_id: number; number: number; from: string } | null;
  /** The environment its steps deploy to (its gate: GET /api/pipeline-runs/{id}/approvals/). */
  environment?: { id: number | null; name: string } | null;
  waiting_since?: string | null;
  approved_at?: string | null;
}

/** A run's artifact (GET /api/pipeline-runs/{id}/artifacts/). */
export interface Artifact {
  id: number;
  run_id: number;
  step_id: number | null;
  name: string;
  status: 'stored' | 'failed';
  file_count: number;
  size_bytes: number;
  refused: Array<{ path: string; reason: string }>;
  error: string | null;
  expires_at: string | null;
  created_at: string;
  download_url: string;
  /** The first 1000 files by path (`file_count` is the total). */
  files: Array<{ path: string; size_bytes: number; sha256: string; url: string }>;
}

/** One cache entry of a pipeline (GET /api/pipelines/{id}/caches/). */
export interface CacheEntry {
  id: number;
  scope: string;
  key: string;
  size_bytes: number;
  entries: number;
  hits: number;
  created_at: string;
  last_used_at: string;
}

export interface Caches {
  count: number;
  total_bytes: number;
  stats: { lookups: number; exact_hits: number; partial_hits: number; hit_rate: number | null };
  results: CacheEntry[];
}

/** One commit status of a run (GET /api/pipeline-runs/{id}/). */
export interface CommitStatus {
  forge: 'github' | 'gitlab';
  repository: string;
  sha: string;
  context: string;
  state: string;
  description: string;
  target_url: string;
  /** pending: not sent yet (retried); delivered; superseded: a later state went instead; failed: see last_error. */
  outcome: 'pending' | 'delivered' | 'superseded' | 'failed';
  attempts: number;
  last_error: string | null;
  last_status_code: number | null;
  created_at: string;
  delivered_at: string | null;
  next_attempt_at: string | null;
}

/** One problem in a pipeline file, where it is (1-based line and column; null when it has no place). */
export interface PipelineFileError {
  path: string;
  line: number | null;
  column: number | null;
  message: string;
  /** The file it is in, when the pipeline file includes others. */
  file?: string | null;
}

/** A credential as lists show it: metadata only, never the secret. */
export interface CredentialSummary {
  id: number;
  name: string;
  kind: string;
  description?: string;
}

export type CredentialKind = 'ssh_key' | 'username_password' | 'token' | 'secret_file' | 'ansible_vault_password';

/** A credential as the API shows it: metadata only, never a value. */
export interface Credential extends CredentialSummary {
  /** The project it belongs to: only that project's pipelines may use it. */
  project_id?: number;
  kind: CredentialKind;
  description: string;
  /** ssh_key: the OpenSSH SHA256 fingerprint of the public key. */
  fingerprint: string | null;
  created_by: { id: number; username: string } | null;
  updated_by: { id: number; username: string } | null;
  created_at: string;
  updated_at: string;
  /** The pipelines whose steps name it. */
  used_by: Array<{ id: number; name: string }>;
}

export interface WebhookDelivery {
  id: number | string;
  provider: string;
  event: string;
  action: string | null;
  repository: string | null;
  ref: string | null;
  commit: string | null;
  verdict: 'triggered' | 'ignored' | 'rejected';
  reason: string | null;
  runs: number[];
  /** What the runs came to, for those the reader may read (older servers omit it). */
  run_results?: Array<{ id: number; number: number; pipeline: string; status: RunStatus; error_reason: string | null }>;
  received_at: string;
}

export interface AppConfig {
  gateway_url: string;
  version: string;
}

export interface SystemStatus {
  status: 'healthy' | 'degraded' | 'unhealthy';
  version: string;
  uptime_seconds?: number;
  services: Record<string, string>;
  metrics: { active_pipelines: number; running_jobs: number; queue_size: number } & Record<string, number>;
  /** Workers with a recent heartbeat (the embedded worker, or every `ansflow worker` when scaled out). */
  workers?: WorkerInfo[];
  /** What an operator must know, e.g. that some worker runs steps without isolation. */
  warnings?: string[];
}

export interface WorkerInfo {
  id: string;
  hostname: string;
  pid: number;
  labels: string[];
  concurrency: number;
  active: number;
  started_at: string;
  heartbeat_at: string;
  /** Whether the worker's steps run sandboxed (null: a worker older than the sandbox). */
  sandbox?: { isolated: boolean; mode: 'bubblewrap' | 'off' | 'unavailable'; detail: string } | null;
}

export interface StatusUpdateMessage {
  type: 'pipeline_status_update';
  data: {
    run_id: number;
    status: RunStatus;
    current_step: CurrentStep | null;
    progress: number;
    steps?: RunStep[];
    pipeline_id?: number;
  };
}

export interface LogMessage {
  type: 'log';
  data: { run_id: number; step_id: number | null; offset: number; text: string };
}

/** One event of an Ansible step's callback (src/domain/ansible-events.ts), as the WebSocket streams them. */
export type AnsibleEvent =
  | { kind: 'play'; seq: number; at: string; play: { id: string; name: string } }
  | { kind: 'task'; seq: number; at: string; play_id: string; task: { id: string; name: string; action: string; handler: boolean } }
  | {
      kind: 'host';
      seq: number;
      at: string;
      task_id: string;
      host: string;
      status: 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped' | 'rescued' | 'ignored';
      duration_ms: number | null;
      message: string | null;
    }
  | { kind: 'recap'; seq: number; at: string; host: string; counts: Record<string, number> };

export interface AnsibleEventsMessage {
  type: 'ansible_events';
  data: { run_id: number; step_id: number; events: AnsibleEvent[] };
}

export type RunSocketMessage = StatusUpdateMessage | LogMessage | AnsibleEventsMessage;

export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['success', 'failed', 'cancelled', 'timeout', 'error'];

export function isFinalRun(status: RunStatus): boolean {
  return FINAL_RUN_STATUSES.includes(status);
}
