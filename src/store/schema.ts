/**
 * Row types: what the database holds, one interface per table. Timestamps are ISO-8601 UTC text
 * and JSON is text in both SQLite and PostgreSQL, so the same rows map the same way everywhere.
 * Booleans are 0/1 integers for the same reason. Repositories map rows to domain types.
 */
import type { Generated, Selectable } from 'kysely';
import type { BuildOutputsTables } from './outputs-schema.js';

export interface UsersTable {
  id: Generated<number>;
  username: string;
  username_key: string;
  email: string;
  first_name: string;
  last_name: string;
  password_hash: string;
  role: string;
  is_active: number;
  /** Bumped on password change; access tokens carry it, so older ones stop working. */
  token_version: number;
  date_joined: string;
}

export interface RefreshTokensTable {
  jti: string;
  user_id: number;
  family_id: string;
  created_at: string;
  expires_at: string;
  rotated_at: string | null;
  revoked_at: string | null;
}

export interface PipelinesTable {
  id: Generated<number>;
  name: string;
  name_key: string;
  description: string;
  status: string;
  repository_url: string | null;
  branch: string;
  trigger_events: string;
  variables: string;
  steps: string;
  steps_count: number;
  /** 1: pull requests from forks get secret variables and credentials (migration 007). */
  secrets_for_forks: Generated<number>;
  run_counter: number;
  last_run_id: number | null;
  created_by: number | null;
  created_at: string;
  updated_at: string;
  /** Migration 009; defaults to the `default` project. */
  project_id: Generated<number>;
  /** Migration 012: the pipeline file in the repository; null = the steps stored here. */
  config_path: Generated<string | null>;
  /** Migration 013: 1 = a newer push / pull-request commit cancels older unfinished runs for it. */
  auto_cancel: Generated<number>;
  /** Migration 013: 1 = the status badge is served without login. */
  badge_public: Generated<number>;
  /** Migration 013: a token credential (name) for commit statuses; null = the server's token. */
  forge_credential: Generated<string | null>;
  /** Migration 018: launch inputs (JSON, domain/launch-inputs.ts). */
  inputs: Generated<string>;
  repository_credential: Generated<string | null>;
  /** Kept by a trigger (migration 014): the pipeline's runs in the database. */
  runs_count: Generated<number>;
  /** Retention (migration 014): keep the newest N runs / runs of the last D days; null: the global default. */
  retention_keep_runs: Generated<number | null>;
  retention_keep_days: Generated<number | null>;
}

export interface PipelineRunsTable {
  id: Generated<number>;
  pipeline_id: number | null;
  pipeline_name: string;
  number: number;
  status: string;
  trigger_type: string;
  trigger_user_id: number | null;
  trigger: string;
  branch: string;
  commit_sha: string | null;
  variables: string;
  definition: string;
  error_reason: string | null;
  cancel_requested_at: string | null;
  /** Why the run got no secret variables or credentials (a fork's pull request); migration 007. */
  secrets_withheld: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** The pipeline's project when the run was written (migration 009); kept when the pipeline is deleted. */
  project_id: number;
  /** Problems of an invalid pipeline file, JSON `[{file, path, line, column, message}]` (migration 012). */
  config_errors: Generated<string | null>;
  /** Why a cancel was asked ("superseded by run #12"), migration 013. */
  cancel_reason: Generated<string | null>;
  /** A pinned run is never removed by retention (migration 014). */
  pinned_at: Generated<string | null>;
  pinned_by: Generated<number | null>;
  /** The run this one retries (migration 016). */
  retry_of: Generated<number | null>;
  /** Migration 018: the environment its steps deploy to (name kept when the environment is deleted). */
  environment_id: Generated<number | null>;
  environment_name: Generated<string | null>;
  /** Migration 018: when its approval gate opened (the timeout counts from here). */
  waiting_since: Generated<string | null>;
  /** Migration 018: when its gate let it through. */
  approved_at: Generated<string | null>;
  /** Migration 018: an approved run leaves `waiting` for `queued` at this time (wait timer, deployment queue). */
  release_at: Generated<string | null>;
  /** Migration 021: the last state whose notification events were written (`waiting`, `final`), or null. */
  notified: Generated<string | null>;
  /** Migration 022: a fork's pull request given secrets waits for a maintainer (`waiting`), then `approved`; null: no such gate. */
  fork_gate: Generated<string | null>;
}

export interface StepRunsTable {
  id: Generated<number>;
  run_id: number;
  position: number;
  name: string;
  type: string;
  parallel_group: string | null;
  status: string;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  attempts: number;
  log_size: number;
  message: string | null;
  /** The original run's step whose result this step reuses, not run again (a retry; migration 016). */
  reused_from: Generated<number | null>;
}

/** The durable job queue: one row per queued or claimed run (written with the run, in one transaction). */
export interface RunQueueTable {
  run_id: number;
  pipeline_id: number | null;
  enqueued_at: string;
  state: string;
  claimed_by: string | null;
  lease_expires_at: string | null;
  /** Labels a worker must have to take this job: sorted, comma-separated ('' = any worker). */
  labels: Generated<string>;
}

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  provider: string;
  delivery_key: string;
  event: string;
  action: string | null;
  repository: string | null;
  ref: string | null;
  commit_sha: string | null;
  verdict: string;
  reason: string | null;
  run_ids: string;
  headers: string;
  payload: string;
  received_at: string;
  /** null while the delivery's runs are being created (migration 002). */
  completed_at: string | null;
  /** ",1,3,": the projects of the runs it started ("," for none: admins only); migration 009. */
  project_ids: Generated<string>;
}

export interface JenkinsBuildsTable {
  id: Generated<number>;
  job_name: string;
  parameters: string;
  status: string;
  queue_id: number | null;
  build_number: number | null;
  build_url: string | null;
  result: string | null;
  console: string;
  console_truncated: number;
  error: string | null;
  triggered_by: number | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** One flushed batch of a log stream (stream = step id, or 0 for the whole-run log). */
export interface LogChunksTable {
  run_id: number;
  stream: number;
  offset: number;
  size: number;
  data: Buffer;
}

export interface WorkersTable {
  id: string;
  hostname: string;
  pid: number;
  labels: string;
  concurrency: number;
  active: number;
  started_at: string;
  heartbeat_at: string;
  /** JSON of the worker's SandboxReport (migration 008); '' from workers that predate it. */
  sandbox: Generated<string>;
}

/** Credentials (migration 006): the secret is the kind's JSON object, sealed as a whole. */
export interface CredentialsTable {
  id: Generated<number>;
  name: string;
  name_key: string;
  kind: string;
  description: string;
  secret: string;
  fingerprint: string | null;
  created_by: number | null;
  updated_by: number | null;
  created_at: string;
  updated_at: string;
  /** Migration 009; defaults to the `default` project. */
  project_id: Generated<number>;
}

/** Projects (migration 009): pipelines, credentials and runs belong to one. */
export interface ProjectsTable {
  id: Generated<number>;
  name: string;
  name_key: string;
  description: string;
  created_by: number | null;
  created_at: string;
  updated_at: string;
  /** Kept by triggers (migration 014): the project's runs and pipelines. */
  runs_count: Generated<number>;
  pipelines_count: Generated<number>;
}

export interface ProjectMembersTable {
  project_id: number;
  user_id: number;
  /** owner | maintainer | developer | viewer (domain/permissions.ts). */
  role: string;
  created_at: string;
}

/** Personal access tokens (migration 010): only the SHA-256 of the token is kept. */
export interface PersonalTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  /** JSON array of scopes. */
  scopes: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** The audit log (migration 010): append-only; `diff` is JSON with secrets already redacted. */
export interface AuditEventsTable {
  id: Generated<number>;
  at: string;
  actor_id: number | null;
  actor_username: string | null;
  source_ip: string | null;
  user_agent: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  target_name: string | null;
  project_id: number | null;
  diff: string | null;
  /** SQLite: 1 once the partial target and project indexes cover the row (migration 026); PostgreSQL: always 1. */
  indexed: Generated<number>;
}

/** Counters kept by triggers (migration 014), e.g. `webhook_deliveries`. */
export interface HistoryCountersTable {
  name: string;
  value: number;
}

/** The one retention sweeper row (migration 014): who holds the sweep, and what the last one did. */
export interface RetentionSweeperTable {
  id: number;
  claimed_by: string | null;
  lease_expires_at: string | null;
  last_started_at: string | null;
  last_finished_at: string | null;
  last_deleted_runs: Generated<number>;
  /** bigint: a string from PostgreSQL. */
  last_freed_bytes: Generated<number | string>;
  last_error: string | null;
  total_deleted_runs: Generated<number>;
}

/** The commit status outbox (migration 013): one row per run and rank (0 queued, 1 running, 2 final). */
export interface CommitStatusesTable {
  id: Generated<number>;
  run_id: number;
  rank: number;
  provider: string;
  api_url: string;
  /** GitHub `owner/repo`; GitLab the project's path (`group/sub/project`). */
  repository: string;
  sha: string;
  context: string;
  state: string;
  description: string;
  target_url: string;
  /** pending | delivered | superseded | failed */
  outcome: string;
  attempts: number;
  next_attempt_at: string;
  claimed_by: string | null;
  claim_expires_at: string | null;
  last_error: string | null;
  last_status_code: number | null;
  created_at: string;
  delivered_at: string | null;
}

/** Single sign-on (migration 011): a user's account at an identity provider. */
export interface UserIdentitiesTable {
  id: Generated<number>;
  user_id: number;
  issuer: string;
  subject: string;
  created_at: string;
  last_login_at: string | null;
}

/** Single sign-on (migration 011): one sign-in in progress (hashes of what travels in URLs and cookies). */
export interface SsoLoginsTable {
  id: Generated<number>;
  state_hash: string;
  browser_hash: string;
  nonce: string;
  code_verifier: string;
  redirect_uri: string;
  next_path: string;
  created_at: string;
  expires_at: string;
  consumed_at: string | null;
  user_id: number | null;
  login_code_hash: string | null;
  login_code_expires_at: string | null;
  exchanged_at: string | null;
}

/** Stored Ansible inventories (migration 017). JSON lists and objects are text. */
export interface InventoriesTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  name_key: string;
  description: string;
  format: string;
  content: string;
  ssh_credential: string | null;
  become_credential: string | null;
  vault_credentials: string;
  /** What ansible-inventory made of `content` at the save (ParsedInventory as JSON). */
  hosts: string;
  version: number;
  created_by: number | null;
  updated_by: number | null;
  created_at: string;
  updated_at: string;
}

export interface InventoryVersionsTable {
  id: Generated<number>;
  inventory_id: number;
  version: number;
  format: string;
  content: string;
  ssh_credential: string | null;
  become_credential: string | null;
  vault_credentials: string;
  created_by: number | null;
  created_at: string;
}

export interface InventoryHostChecksTable {
  inventory_id: number;
  host: string;
  status: string;
  reason: string | null;
  facts: string | null;
  checked_at: string;
}

/** Connectivity checks of inventories, followed by id (migration 020). */
export interface InventoryChecksTable {
  id: Generated<number>;
  inventory_id: number;
  inventory_version: number;
  host_limit: string | null;
  /** running | finished | error */
  status: string;
  host_count: number;
  /** JSON: one HostCheckResult per host reported so far. */
  results: string;
  error: string | null;
  requested_by: number | null;
  started_at: string;
  finished_at: string | null;
}

/** What an Ansible step's callback reported, in order (migration 017). */
export interface AnsibleEventsTable {
  id: Generated<number>;
  run_id: number;
  step_id: number;
  seq: number;
  kind: string;
  host: string | null;
  status: string | null;
  data: string;
  at: string;
}

/** Migration 018: an environment of a project and its approval rule (JSON arrays as text). */
export interface EnvironmentsTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  description: string;
  required_approvals: number;
  approver_users: string;
  approver_roles: string;
  prevent_self_approval: number;
  branches: string;
  wait_timer_seconds: number;
  approval_timeout_seconds: number | null;
  timeout_outcome: string;
  concurrency: string | null;
  created_by: number | null;
  created_at: string;
  updated_at: string;
}

/** Migration 018: one person's decision on a waiting run. */
export interface RunApprovalsTable {
  id: Generated<number>;
  run_id: number;
  user_id: number | null;
  username: string;
  decision: string;
  comment: string;
  commit_sha: string | null;
  created_at: string;
}

/** Migration 022: a maintainer approved a fork's pull request author at a head commit (its runs get secrets). */
export interface ForkApprovalsTable {
  id: Generated<number>;
  pipeline_id: number;
  author: string;
  commit_sha: string;
  pull_request: number | null;
  run_id: number | null;
  approved_by: number | null;
  approved_by_name: string;
  comment: Generated<string>;
  created_at: string;
}

/** Migration 018: a pipeline's cron schedule. */
export interface SchedulesTable {
  id: Generated<number>;
  pipeline_id: number;
  description: string;
  cron: string;
  timezone: string;
  branch: string | null;
  variables: string;
  enabled: number;
  catch_up: number;
  next_fire_at: string | null;
  checked_until: string;
  created_by: number | null;
  created_at: string;
  updated_at: string;
}

/** Migration 018: one fire time of a schedule, claimed by inserting it (unique per schedule and time). */
export interface ScheduleFiresTable {
  id: Generated<number>;
  schedule_id: number;
  fire_at: string;
  outcome: string;
  run_id: number | null;
  reason: string | null;
  claimed_by: string | null;
  created_at: string;
}

/** Migration 018: where a project's notifications go. */
export interface NotificationChannelsTable {
  id: Generated<number>;
  project_id: number;
  name: string;
  kind: string;
  config: string;
  secret: string | null;
  events: string;
  pipeline_ids: string | null;
  enabled: number;
  created_by: number | null;
  created_at: string;
  updated_at: string;
}

/** Migration 018: the notification outbox, one row per channel and event occurrence. */
export interface NotificationDeliveriesTable {
  id: Generated<number>;
  channel_id: number;
  run_id: number | null;
  event: string;
  occurrence: string;
  payload: string;
  outcome: string;
  attempts: number;
  next_attempt_at: string;
  claimed_by: string | null;
  claim_expires_at: string | null;
  last_error: string | null;
  last_status_code: number | null;
  attempt_log: string;
  created_at: string;
  delivered_at: string | null;
}

export interface Database extends BuildOutputsTables {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  pipelines: PipelinesTable;
  pipeline_runs: PipelineRunsTable;
  step_runs: StepRunsTable;
  run_queue: RunQueueTable;
  webhook_deliveries: WebhookDeliveriesTable;
  log_chunks: LogChunksTable;
  workers: WorkersTable;
  jenkins_builds: JenkinsBuildsTable;
  credentials: CredentialsTable;
  projects: ProjectsTable;
  project_members: ProjectMembersTable;
  personal_tokens: PersonalTokensTable;
  audit_events: AuditEventsTable;
  user_identities: UserIdentitiesTable;
  sso_logins: SsoLoginsTable;
  commit_statuses: CommitStatusesTable;
  history_counters: HistoryCountersTable;
  retention_sweeper: RetentionSweeperTable;
  inventories: InventoriesTable;
  inventory_versions: InventoryVersionsTable;
  inventory_host_checks: InventoryHostChecksTable;
  inventory_checks: InventoryChecksTable;
  ansible_events: AnsibleEventsTable;
  environments: EnvironmentsTable;
  run_approvals: RunApprovalsTable;
  fork_approvals: ForkApprovalsTable;
  schedules: SchedulesTable;
  schedule_fires: ScheduleFiresTable;
  notification_channels: NotificationChannelsTable;
  notification_deliveries: NotificationDeliveriesTable;
}

export type UserRow = Selectable<UsersTable>;
export type PipelineRow = Selectable<PipelinesTable>;
export type PipelineRunRow = Selectable<PipelineRunsTable>;
export type StepRunRow = Selectable<StepRunsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type JenkinsBuildRow = Selectable<JenkinsBuildsTable>;
export type CredentialRow = Selectable<CredentialsTable>;
export type PersonalTokenRow = Selectable<PersonalTokensTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type CommitStatusRow = Selectable<CommitStatusesTable>;
