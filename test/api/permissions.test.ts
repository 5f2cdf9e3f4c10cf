/**
 * Every route of the management API, for every kind of caller, against the real server: the
 * status each gets on the resources of one project P. The route list is Fastify's own route table
 * (printRoutes of the API server as it is built at start-up), so a route added without a rule in
 * RULES fails the first test; the gateway's (port 8001) routes are read the same way and tested on
 * its own address. Callers: a global admin (member of nothing), P's owner, maintainer,
 * developer and viewer (all global developers: it is the project role that decides), and a
 * developer who is a member of another project only; and the owner through personal access
 * tokens limited to `read` and to `run`. Not readable is 404, readable but not
 * allowed is 403 (docs/permissions.md). The gateway's WebSocket feeds are checked at the end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { startApi, type Harness } from '../support/api-harness.js';
import { buildApi } from '../../src/runtime/servers.js';
import type { Actor } from '../../src/domain/permissions.js';
import { connectWs, wsUrl } from '../gateway/gateway-support.js';
import { waitFor } from '../support/wait.js';
import { isFinalRunStatus } from '../../src/domain/status.js';
import { buildGateway } from '../../src/runtime/gateway.js';
import { gatewayOptionsFromConfig } from '../../src/http/gateway/gateway-options.js';
import { inventoriesOf } from '../../src/runtime/inventories.js';
import { InventoryChecksRepository } from '../../src/store/inventory-checks-repository.js';
import { notificationsOf } from '../../src/runtime/notifications.js';

const WHO = ['admin', 'owner', 'maintainer', 'developer', 'viewer', 'outsider'] as const;
type Who = (typeof WHO)[number];
/** Callers with a personal access token of P's owner limited to one scope (a scope only takes away). */
const SCOPED = ['owner:read', 'owner:run'] as const;
type Scoped = (typeof SCOPED)[number];

/**
 * What a scoped token of the owner gets: what the owner gets where the scope suffices, else 403.
 * `read` reads; `run` also starts and cancels runs and redelivers (RUN_ROUTES). Sign-in routes
 * ignore the token.
 */
const RUN_ROUTES = new Set([
  'POST /api/pipelines/:id/run/',
  'POST /api/pipeline-runs/:id/cancel/',
  'POST /api/pipeline-runs/:id/retry/',
  'POST /api/pipeline-runs/:id/rerun-failed-hosts/',
  'POST /api/inventories/:id/check/',
  'POST /api/pipeline-runs/:id/approvals/',
  'POST /api/webhook-deliveries/:id/redeliver/',
  'POST /api/v1/integrations/jenkins/trigger/',
]);
/** POSTs that only read (a lint checks a text): the `read` scope suffices. */
const READ_POSTS = new Set(['POST /api/pipelines/lint/']);
function scopedExpectation(route: string, who: Scoped, owner: number): number {
  const method = route.split(' ')[0]!;
  if (route.includes(' /api/auth/') || route.includes(' /api/v1/webhooks/') || method === 'GET') return owner;
  if (READ_POSTS.has(route)) return owner;
  if (who === 'owner:run' && RUN_ROUTES.has(route)) return owner;
  return 403;
}

interface Fixture {
  project: number;
  pipeline: number;
  run: number;
  credential: number;
  /** An inventory of P, created by P's owner. */
  inventory: number;
  /** A connectivity check of that inventory (a row: no Ansible ran). */
  inventoryCheck: number;
  /** An environment of P (created by P's owner). */
  environment: number;
  /** A schedule of the pipeline (created by P's owner). */
  schedule: number;
  /** A webhook notification channel of P (created by P's owner) to a port where nothing listens. */
  channel: number;
  delivery: number;
  /** A Jenkins build (they belong to no project). */
  jenkinsBuild: number;
  /** An artifact of the run, with one file `out/a.txt`. */
  artifact: number;
  /** The user ids of P's members, by role. */
  member: Record<'owner' | 'maintainer' | 'developer' | 'viewer', number>;
}

interface Rule {
  /** `fresh`: a new project with its resources for each call (the call changes or deletes them). */
  fresh?: boolean;
  path: (f: Fixture) => string;
  body?: (f: Fixture) => unknown;
  expect: Record<Who, number> | number;
  /** Served by the gateway (port 8001), not the management API. */
  gateway?: boolean;
}

/** Statuses by caller, in WHO order. */
const by = (admin: number, owner: number, maintainer: number, developer: number, viewer: number, outsider: number): Record<Who, number> => ({
  admin,
  owner,
  maintainer,
  developer,
  viewer,
  outsider,
});
const READ = by(200, 200, 200, 200, 200, 404);
const RUN = (ok: number) => by(ok, ok, ok, ok, 403, 404);
/** Changing what P's owner created: maintainers and up. */
const CHANGE_OTHERS = (ok: number) => by(ok, ok, ok, 403, 403, 404);
const ADMIN_ONLY = (ok: number) => by(ok, 403, 403, 403, 403, 403);

let counter = 0;
/** A run of P with an Ansible step (made once, after the shared fixture). */
const ansibleRun = { run: 0, step: 0 };
/** A user no test signs in as (whose password the admin may change). */
let spareId = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

/** Route (method and Fastify's URL) → rule. Public documentation routes are listed in PUBLIC. */
const RULES: Record<string, Rule> = {
  // Authentication: the same for everyone (no password: a 400 that the login throttle does not count; a bad refresh token).
  'POST /api/auth/login/': { path: () => '/api/auth/login/', body: () => ({ username: 'nobody' }), expect: 400 },
  'POST /api/auth/refresh/': { path: () => '/api/auth/refresh/', body: () => ({ refresh: 'not-a-token' }), expect: 401 },
  'POST /api/auth/logout/': { path: () => '/api/auth/logout/', body: () => ({ refresh: 'not-a-token' }), expect: 401 },
  // Single sign-on (not configured here: see test/api/sso.test.ts) and the sign-in methods; the callback always redirects.
  'GET /api/auth/methods/': { path: () => '/api/auth/methods/', expect: 200 },
  'POST /api/auth/oidc/start/': { path: () => '/api/auth/oidc/start/', body: () => ({}), expect: 404 },
  'GET /api/auth/oidc/callback/': { path: () => '/api/auth/oidc/callback/?code=c&state=s', expect: 302 },
  'POST /api/auth/oidc/exchange/': { path: () => '/api/auth/oidc/exchange/', body: () => ({ code: 'not-a-code' }), expect: 404 },

  // Global: users (admins), the caller's own profile and tokens, the step catalogue, the audit log.
  'GET /api/users/': { path: () => '/api/users/', expect: ADMIN_ONLY(200) },
  'POST /api/users/': {
    path: () => '/api/users/',
    body: () => ({ username: unique('made'), password: 'password-123', role: 'viewer', email: 'x@example.com' }),
    expect: ADMIN_ONLY(201),
  },
  'GET /api/users/:id/': { path: (f) => `/api/users/${f.member.viewer}/`, expect: ADMIN_ONLY(200) },
  'PATCH /api/users/:id/': { path: (f) => `/api/users/${f.member.viewer}/`, body: () => ({ first_name: 'V' }), expect: ADMIN_ONLY(200) },
  'POST /api/users/:id/password/': { path: () => `/api/users/${spareId}/password/`, body: () => ({ new_password: 'password-456' }), expect: ADMIN_ONLY(204) },
  'GET /api/users/me/': { path: () => '/api/users/me/', expect: 200 },
  'PATCH /api/users/me/': { path: () => '/api/users/me/', body: () => ({ first_name: 'Me' }), expect: 200 },
  'POST /api/users/me/password/': {
    path: () => '/api/users/me/password/',
    body: () => ({ old_password: 'wrong-password', new_password: 'password-789' }),
    expect: 400,
  },
  'GET /api/users/me/tokens/': { path: () => '/api/users/me/tokens/', expect: 200 },
  'POST /api/users/me/tokens/': { path: () => '/api/users/me/tokens/', body: () => ({ name: unique('t'), scopes: ['read'] }), expect: 201 },
  'DELETE /api/users/me/tokens/:id/': { path: () => '/api/users/me/tokens/999999/', expect: 404 },
  // The audit log: admins all of it; maintainers and owners their projects' events (test/api/audit-maintainers.test.ts).
  'GET /api/audit-events/': { path: (f) => `/api/audit-events/?project=${f.project}`, expect: by(200, 200, 200, 403, 403, 404) },
  'GET /api/step-types/': { path: () => '/api/step-types/', expect: 200 },
  'GET /api/config/': { path: () => '/api/config/', expect: 200 },

  // Projects and members.
  'GET /api/projects/': { path: () => '/api/projects/', expect: 200 },
  'POST /api/projects/': { path: () => '/api/projects/', body: () => ({ name: unique('proj') }), expect: 201 },
  'GET /api/projects/:id/': { path: (f) => `/api/projects/${f.project}/`, expect: READ },
  'PUT /api/projects/:id/': {
    fresh: true,
    path: (f) => `/api/projects/${f.project}/`,
    body: () => ({ name: unique('renamed') }),
    expect: by(200, 200, 403, 403, 403, 404),
  },
  'DELETE /api/projects/:id/': { fresh: true, path: (f) => `/api/projects/${f.project}/`, expect: by(409, 409, 403, 403, 403, 404) },
  'GET /api/projects/:id/members/': { path: (f) => `/api/projects/${f.project}/members/`, expect: READ },
  'POST /api/projects/:id/members/': {
    fresh: true,
    path: (f) => `/api/projects/${f.project}/members/`,
    body: () => ({ username: 'spare', role: 'developer' }),
    expect: by(201, 201, 201, 403, 403, 404),
  },
  'PUT /api/projects/:id/members/:user_id/': {
    fresh: true,
    path: (f) => `/api/projects/${f.project}/members/${f.member.viewer}/`,
    body: () => ({ role: 'developer' }),
    expect: by(200, 200, 200, 403, 403, 404),
  },
  'DELETE /api/projects/:id/members/:user_id/': {
    fresh: true,
    path: (f) => `/api/projects/${f.project}/members/${f.member.viewer}/`,
    // The viewer removing themselves is leaving the project.
    expect: by(204, 204, 204, 403, 204, 404),
  },

  // Pipelines (created by P's owner).
  'GET /api/pipelines/': { path: (f) => `/api/pipelines/?project=${f.project}`, expect: READ },
  'POST /api/pipelines/': { path: () => '/api/pipelines/', body: (f) => ({ name: unique('pipe'), project: f.project }), expect: RUN(201) },
  'GET /api/pipelines/:id/': { path: (f) => `/api/pipelines/${f.pipeline}/`, expect: READ },
  'PUT /api/pipelines/:id/': { fresh: true, path: (f) => `/api/pipelines/${f.pipeline}/`, body: () => ({ name: unique('put') }), expect: CHANGE_OTHERS(200) },
  'PATCH /api/pipelines/:id/': {
    fresh: true,
    path: (f) => `/api/pipelines/${f.pipeline}/`,
    body: () => ({ description: 'changed' }),
    expect: CHANGE_OTHERS(200),
  },
  'DELETE /api/pipelines/:id/': { fresh: true, path: (f) => `/api/pipelines/${f.pipeline}/`, expect: CHANGE_OTHERS(204) },
  'POST /api/pipelines/:id/run/': { path: (f) => `/api/pipelines/${f.pipeline}/run/`, body: () => ({}), expect: RUN(201) },
  'GET /api/pipelines/:id/runs/': { path: (f) => `/api/pipelines/${f.pipeline}/runs/`, expect: READ },
  // The pipeline file: lint is for anyone signed in (it reads no resource); export reads the pipeline; the schema is public.
  'POST /api/pipelines/lint/': { path: () => '/api/pipelines/lint/', body: () => ({ content: 'steps:\n  - { name: a, run: make }\n' }), expect: 200 },
  'GET /api/pipelines/:id/export/': { path: (f) => `/api/pipelines/${f.pipeline}/export/`, expect: READ },
  'GET /api/schemas/pipeline-file.json/': { path: () => '/api/schemas/pipeline-file.json', expect: 200 },
  // Readers get the badge; anonymous callers only for pipelines with badge_public (test/api/pipeline-badge.test.ts).
  'GET /api/pipelines/:id/badge.svg/': { path: (f) => `/api/pipelines/${f.pipeline}/badge.svg`, expect: READ },

  // Runs and logs.
  'GET /api/pipeline-runs/': { path: (f) => `/api/pipeline-runs/?project=${f.project}`, expect: READ },
  'GET /api/pipeline-runs/:id/': { path: (f) => `/api/pipeline-runs/${f.run}/`, expect: READ },
  'GET /api/pipeline-runs/:id/logs/': { path: (f) => `/api/pipeline-runs/${f.run}/logs/`, expect: READ },
  // The run has finished: who may cancel gets the 409 that says so.
  'POST /api/pipeline-runs/:id/cancel/': { path: (f) => `/api/pipeline-runs/${f.run}/cancel/`, expect: RUN(409) },
  // An Ansible step's results are read as the run is; a re-run on failed hosts is running (this run had none: 409).
  'GET /api/pipeline-runs/:id/steps/:step_id/ansible/': { path: () => `/api/pipeline-runs/${ansibleRun.run}/steps/${ansibleRun.step}/ansible/`, expect: READ },
  'POST /api/pipeline-runs/:id/rerun-failed-hosts/': { path: (f) => `/api/pipeline-runs/${f.run}/rerun-failed-hosts/`, expect: RUN(409) },
  // Retention: pinning is running's right; a pipeline's policy is read and edited as the pipeline is.
  'POST /api/pipeline-runs/:id/pin/': { path: (f) => `/api/pipeline-runs/${f.run}/pin/`, expect: RUN(200) },
  'DELETE /api/pipeline-runs/:id/pin/': { path: (f) => `/api/pipeline-runs/${f.run}/pin/`, expect: RUN(200) },
  'GET /api/pipelines/:id/retention/': { path: (f) => `/api/pipelines/${f.pipeline}/retention/`, expect: READ },
  'PUT /api/pipelines/:id/retention/': {
    path: (f) => `/api/pipelines/${f.pipeline}/retention/`,
    body: () => ({ keep_runs: null, keep_days: null }),
    expect: CHANGE_OTHERS(200),
  },

  // Retrying is running's right; the shared run has no steps, so who may gets the 409 that says so.
  'POST /api/pipeline-runs/:id/retry/': { path: (f) => `/api/pipeline-runs/${f.run}/retry/`, body: () => ({ from: 'failed' }), expect: RUN(409) },
  // Artifacts are read as their run is; caches are listed as their pipeline is read and cleared as it is edited.
  'GET /api/pipeline-runs/:id/artifacts/': { path: (f) => `/api/pipeline-runs/${f.run}/artifacts/`, expect: READ },
  'GET /api/pipeline-runs/:id/artifacts/:artifact_id/download/': { path: (f) => `/api/pipeline-runs/${f.run}/artifacts/${f.artifact}/download/`, expect: READ },
  'GET /api/pipeline-runs/:id/artifacts/:artifact_id/files/*': {
    path: (f) => `/api/pipeline-runs/${f.run}/artifacts/${f.artifact}/files/out/a.txt`,
    expect: READ,
  },
  'GET /api/pipelines/:id/caches/': { path: (f) => `/api/pipelines/${f.pipeline}/caches/`, expect: READ },
  'DELETE /api/pipelines/:id/caches/': { path: (f) => `/api/pipelines/${f.pipeline}/caches/`, expect: CHANGE_OTHERS(200) },
  // No such entry: who may clear learns it is not there (404), who may not is refused first.
  'DELETE /api/pipelines/:id/caches/:cache_id/': { path: (f) => `/api/pipelines/${f.pipeline}/caches/999999/`, expect: by(404, 404, 404, 403, 403, 404) },

  // Credentials (metadata; created by P's owner).
  'GET /api/credentials/': { path: (f) => `/api/credentials/?project=${f.project}`, expect: READ },
  'POST /api/credentials/': {
    path: () => '/api/credentials/',
    body: (f) => ({ name: unique('cred'), kind: 'token', secret: { token: 'token-value-1' }, project: f.project }),
    expect: RUN(201),
  },
  'GET /api/credentials/:id/': { path: (f) => `/api/credentials/${f.credential}/`, expect: READ },
  'PUT /api/credentials/:id/': {
    fresh: true,
    path: (f) => `/api/credentials/${f.credential}/`,
    body: () => ({ name: unique('cput'), kind: 'token' }),
    expect: CHANGE_OTHERS(200),
  },
  'DELETE /api/credentials/:id/': { fresh: true, path: (f) => `/api/credentials/${f.credential}/`, expect: CHANGE_OTHERS(204) },

  // Inventories (created by P's owner): read as the project, changed as pipelines are (`edit`).
  'GET /api/inventories/': { path: (f) => `/api/inventories/?project=${f.project}`, expect: READ },
  'POST /api/inventories/': {
    path: () => '/api/inventories/',
    body: (f) => ({ name: unique('inv'), format: 'ini', content: '[web]\nweb1\n', project: f.project }),
    expect: RUN(201),
  },
  'GET /api/inventories/:id/': { path: (f) => `/api/inventories/${f.inventory}/`, expect: READ },
  'PUT /api/inventories/:id/': {
    fresh: true,
    path: (f) => `/api/inventories/${f.inventory}/`,
    body: () => ({ name: unique('iput'), format: 'ini', content: '[db]\ndb1\n' }),
    expect: CHANGE_OTHERS(200),
  },
  'DELETE /api/inventories/:id/': { fresh: true, path: (f) => `/api/inventories/${f.inventory}/`, expect: CHANGE_OTHERS(204) },
  'GET /api/inventories/:id/versions/': { path: (f) => `/api/inventories/${f.inventory}/versions/`, expect: READ },
  'GET /api/inventories/:id/versions/:version/': { path: (f) => `/api/inventories/${f.inventory}/versions/1/`, expect: READ },
  'POST /api/inventories/:id/versions/:version/restore/': {
    fresh: true,
    path: (f) => `/api/inventories/${f.inventory}/versions/1/restore/`,
    expect: CHANGE_OTHERS(200),
  },
  'GET /api/inventories/:id/diff/': { path: (f) => `/api/inventories/${f.inventory}/diff/?from=1&to=1`, expect: READ },
  'GET /api/inventories/:id/hosts/': { path: (f) => `/api/inventories/${f.inventory}/hosts/`, expect: READ },
  // Checking connects to the hosts with the inventory's credential: running's right (web1 resolves nowhere: unreachable, 200).
  'POST /api/inventories/:id/check/': { path: (f) => `/api/inventories/${f.inventory}/check/`, body: () => ({}), expect: RUN(200) },
  'GET /api/inventories/:id/checks/:cid/': { path: (f) => `/api/inventories/${f.inventory}/checks/${f.inventoryCheck}/`, expect: READ },
  // Environments: everyone reads them; changing one changes who may deploy, so maintainers and up.
  'GET /api/environments/': { path: (f) => `/api/environments/?project=${f.project}`, expect: READ },
  'POST /api/environments/': { path: () => '/api/environments/', body: (f) => ({ name: unique('env'), project: f.project }), expect: CHANGE_OTHERS(201) },
  'GET /api/environments/:id/': { path: (f) => `/api/environments/${f.environment}/`, expect: READ },
  'PUT /api/environments/:id/': {
    fresh: true,
    path: (f) => `/api/environments/${f.environment}/`,
    body: () => ({ name: unique('env'), required_approvals: 2 }),
    expect: CHANGE_OTHERS(200),
  },
  'DELETE /api/environments/:id/': { fresh: true, path: (f) => `/api/environments/${f.environment}/`, expect: CHANGE_OTHERS(204) },
  'GET /api/environments/:id/deployments/': { path: (f) => `/api/environments/${f.environment}/deployments/`, expect: READ },
  // Schedules are read as their pipeline is, and changed as it is (`edit`).
  'GET /api/pipelines/:id/schedules/': { path: (f) => `/api/pipelines/${f.pipeline}/schedules/`, expect: READ },
  'POST /api/pipelines/:id/schedules/': {
    path: (f) => `/api/pipelines/${f.pipeline}/schedules/`,
    body: () => ({ cron: '@daily', enabled: false }),
    expect: CHANGE_OTHERS(201),
  },
  'PUT /api/pipelines/:id/schedules/:sid/': {
    path: (f) => `/api/pipelines/${f.pipeline}/schedules/${f.schedule}/`,
    body: () => ({ cron: '@hourly', enabled: false }),
    expect: CHANGE_OTHERS(200),
  },
  'DELETE /api/pipelines/:id/schedules/:sid/': {
    fresh: true,
    path: (f) => `/api/pipelines/${f.pipeline}/schedules/${f.schedule}/`,
    expect: CHANGE_OTHERS(204),
  },
  // Notification channels: everyone reads them (never their secrets) and their delivery log;
  // changing one, or sending a test through it, is maintainers and up.
  'GET /api/notification-channels/': { path: (f) => `/api/notification-channels/?project=${f.project}`, expect: READ },
  'POST /api/notification-channels/': {
    path: () => '/api/notification-channels/',
    body: (f) => ({
      name: unique('channel'),
      project: f.project,
      kind: 'webhook',
      events: ['run_failed'],
      config: { url: 'http://127.0.0.1:9/' },
      secret: 'shh',
    }),
    expect: CHANGE_OTHERS(201),
  },
  'GET /api/notification-channels/:id/': { path: (f) => `/api/notification-channels/${f.channel}/`, expect: READ },
  'PUT /api/notification-channels/:id/': {
    fresh: true,
    path: (f) => `/api/notification-channels/${f.channel}/`,
    body: () => ({ name: unique('channel'), kind: 'webhook', events: ['run_succeeded'], config: { url: 'http://127.0.0.1:9/' } }),
    expect: CHANGE_OTHERS(200),
  },
  'DELETE /api/notification-channels/:id/': { fresh: true, path: (f) => `/api/notification-channels/${f.channel}/`, expect: CHANGE_OTHERS(204) },
  'POST /api/notification-channels/:id/test/': { path: (f) => `/api/notification-channels/${f.channel}/test/`, expect: CHANGE_OTHERS(200) },
  'GET /api/notification-channels/:id/deliveries/': { path: (f) => `/api/notification-channels/${f.channel}/deliveries/`, expect: READ },
  // Approvals: the policy lets developers and up ask (viewers: 403); the run has finished, so who
  // may ask gets the 409 that says so. Whose decision counts is the environment's rule
  // (test/delivery/approval-gates.test.ts).
  'GET /api/pipeline-runs/:id/approvals/': { path: (f) => `/api/pipeline-runs/${f.run}/approvals/`, expect: READ },
  'POST /api/pipeline-runs/:id/approvals/': { path: (f) => `/api/pipeline-runs/${f.run}/approvals/`, body: () => ({ decision: 'approve' }), expect: RUN(409) },

  // Webhook deliveries (one that started P's run; its body was not kept, so redelivering is a 409).
  'GET /api/webhook-deliveries/': { path: (f) => `/api/webhook-deliveries/?project=${f.project}`, expect: READ },
  'POST /api/webhook-deliveries/:id/redeliver/': { path: (f) => `/api/webhook-deliveries/${f.delivery}/redeliver/`, expect: RUN(409) },

  // The gateway (port 8001). Webhooks are public and need their provider's secret (none is set
  // here); status is public; /metrics is served on its own listener unless a metrics token is set.
  'POST /api/v1/webhooks/github/': { gateway: true, path: () => '/api/v1/webhooks/github', body: () => ({}), expect: 401 },
  'POST /api/v1/webhooks/gitlab/': { gateway: true, path: () => '/api/v1/webhooks/gitlab', body: () => ({}), expect: 401 },
  'GET /api/v1/system/status/': { gateway: true, path: () => '/api/v1/system/status', expect: 200 },
  'GET /metrics/': { gateway: true, path: () => '/metrics', expect: 404 },
  // Jenkins jobs belong to no project: every global developer and admin may trigger (no Jenkins is
  // configured here: the 502 that says so) and read builds.
  'POST /api/v1/integrations/jenkins/trigger/': {
    gateway: true,
    path: () => '/api/v1/integrations/jenkins/trigger',
    body: () => ({ job_name: 'build' }),
    expect: 502,
  },
  'GET /api/v1/integrations/jenkins/builds/:id/': { gateway: true, path: (f) => `/api/v1/integrations/jenkins/builds/${f.jenkinsBuild}`, expect: 200 },
};

/** Routes served to everyone without a token: the API documentation and the web UI. */
const PUBLIC = [/^\/api\/docs/, /^\/api\/schema(?:\/|$)/, /^\/(?!api\/)/];
/** The gateway's: its API documentation, and the WebSocket feeds (their own test at the end). */
const GATEWAY_PUBLIC = [/^\/docs/, /^\/openapi\.json$/, /^\/ws\//];

/** METHOD + URL of every route in Fastify's table (HEAD mirrors GET). */
function routesOf(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)(?:└── |├── )(\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    const url = stack.join('').replace(/^\/\//, '/');
    for (const method of (match[3] ?? '').split(', ').filter((m) => m && m !== 'HEAD')) out.push(`${method} ${url}`);
  }
  return out;
}

/**
 * find-my-way prints a wildcard that follows a parameter without the static part between them
 * (`/artifacts` then `* (GET)` for `/artifacts/:artifact_id/files/*`): such routes, as printed, and what they are.
 */
const PRINTED_WILDCARDS: Record<string, string> = {
  'GET /api/pipeline-runs/:id/artifacts*': 'GET /api/pipeline-runs/:id/artifacts/:artifact_id/files/*',
};

/** Fastify prints URLs without their trailing slash: the rule keys have theirs. */
const ruleKey = (route: string) => PRINTED_WILDCARDS[route] ?? (route.endsWith('/') || route.endsWith('*') ? route : `${route}/`);

describe('permissions, route by route and role by role', () => {
  let h: Harness;
  let routes: string[];
  let gatewayRoutes: string[];
  const tokens = {} as Record<Who | Scoped, string>;
  const actors = {} as Record<Who, Actor>;
  let shared: Fixture;

  const fixture = async (): Promise<Fixture> => {
    const owner = actors.owner;
    const project = await h.ctx.projects.create(owner, { name: unique('P') });
    const member = { owner: owner.id, maintainer: actors.maintainer.id, developer: actors.developer.id, viewer: actors.viewer.id };
    for (const role of ['maintainer', 'developer', 'viewer'] as const) await h.ctx.repos.projects.setMember(project.id, member[role], role);
    const pipeline = await h.ctx.pipelines.create(owner, { name: unique('pipeline'), project: project.id, steps: [] });
    const run = await h.ctx.runs.trigger(owner, { pipelineId: pipeline.id, trigger: { type: 'manual', user: { id: owner.id, username: owner.username } } });
    await waitFor(async () => isFinalRunStatus((await h.ctx.repos.runs.status(run.id))!), 10000);
    const credential = await h.ctx.credentials.create(owner, {
      name: unique('credential'),
      kind: 'token',
      secret: { token: 'token-value-0' },
      project: project.id,
    });
    // Written through the repository (no Ansible parse): fixtures are made for every caller of every `fresh` rule.
    const inventory = (await inventoriesOf(h.ctx).repository.create(
      {
        project_id: project.id,
        name: unique('inventory'),
        description: '',
        format: 'ini',
        content: '[web]\nweb1\n',
        ssh_credential: null,
        become_credential: null,
        vault_credentials: [],
        parsed: { hosts: [{ name: 'web1', groups: ['web'], vars: {} }], groups: [{ name: 'web', hosts: ['web1'], children: [] }] },
      },
      owner.id,
    ))!.id;
    const inventoryCheck = await new InventoryChecksRepository(h.ctx.db.kysely).start({
      inventoryId: inventory,
      version: 1,
      limit: null,
      hostCount: 1,
      requestedBy: owner.id,
    });
    const environment = await h.ctx.delivery.environments.create(owner, { name: unique('env'), project: project.id });
    const schedule = await h.ctx.delivery.schedules.create(owner, pipeline.id, { cron: '@daily', enabled: false });
    const channel = await notificationsOf(h.ctx).service.create(owner, {
      name: unique('channel'),
      project: project.id,
      kind: 'webhook',
      events: ['run_failed'],
      config: { url: 'http://127.0.0.1:9/' },
      secret: 'shh',
    });
    const delivery = (await h.ctx.repos.deliveries.insertIfNew({
      provider: 'github',
      deliveryKey: unique('delivery'),
      event: 'push',
      action: null,
      repository: null,
      ref: null,
      commit: null,
      verdict: 'triggered',
      reason: null,
      headers: {},
      payload: '',
      complete: false,
    }))!;
    await h.ctx.repos.deliveries.complete(delivery, { verdict: 'triggered', reason: null, runIds: [run.id] });
    const jenkinsBuild = (await h.ctx.repos.jenkinsBuilds.create({ jobName: 'build', parameters: {}, queueId: 1, triggeredBy: owner.id })).id;
    const stored = await h.ctx.artifactStore.put(`runs/${run.id}/artifacts/t/0`, Readable.from([Buffer.from('a')]));
    const artifact = await h.ctx.repos.outputs.recordArtifact({
      runId: run.id,
      stepRunId: null,
      name: 'out',
      keyPrefix: `runs/${run.id}/artifacts/t`,
      files: [{ path: 'out/a.txt', size: stored.size, sha256: stored.sha256, key: stored.key }],
      refused: [],
      bytes: stored.size,
      expiresAt: null,
      error: null,
    });
    return {
      project: project.id,
      pipeline: pipeline.id,
      run: run.id,
      credential: credential.id,
      inventory,
      inventoryCheck,
      environment: environment.id,
      schedule: schedule.id,
      channel: channel.id,
      delivery,
      jenkinsBuild,
      artifact,
      member,
    };
  };

  before(async () => {
    h = await startApi();
    const api = await buildApi(h.ctx, h.gatewayUrl);
    await api.ready();
    routes = routesOf(api.printRoutes({ commonPrefix: false })).filter((r) => !PUBLIC.some((p) => p.test(r.split(' ')[1]!)));
    await api.close();
    const gateway = await buildGateway(h.ctx, gatewayOptionsFromConfig(h.ctx.config));
    await gateway.ready();
    gatewayRoutes = routesOf(gateway.printRoutes({ commonPrefix: false })).filter((r) => !GATEWAY_PUBLIC.some((p) => p.test(r.split(' ')[1]!)));
    await gateway.close();

    tokens.admin = await h.login();
    actors.admin = { id: 1, username: 'admin', role: 'admin' };
    for (const who of WHO.filter((w) => w !== 'admin')) {
      tokens[who] = await h.userToken(who, 'developer');
      const user = (await h.ctx.repos.users.findByUsername(who))!;
      actors[who] = { id: user.id, username: user.username, role: user.role };
    }
    for (const scope of ['read', 'run'] as const) {
      const made = await h.request('POST', '/api/users/me/tokens/', { token: tokens.owner, body: { name: `owner-${scope}`, scopes: [scope] } });
      assert.equal(made.status, 201, made.text);
      tokens[`owner:${scope}`] = made.json.token;
    }
    spareId = (await h.ctx.users.create({ username: 'spare', password: 'password-123', role: 'developer' })).id;
    // The outsider belongs to another project, and to no project of the fixtures.
    const elsewhere = await h.ctx.projects.create(actors.outsider, { name: 'elsewhere' });
    assert.ok(elsewhere.id);
    const defaultId = (await h.ctx.repos.projects.defaultProjectId())!;
    for (const who of WHO.filter((w) => w !== 'admin')) await h.ctx.repos.projects.removeMember(defaultId, actors[who].id);
    shared = await fixture();
    // Its playbook is missing: the step fails at once, without starting Ansible; it is an Ansible step all the same.
    const withAnsible = await h.ctx.pipelines.create(actors.owner, {
      name: unique('ansible'),
      project: shared.project,
      steps: [{ name: 'deploy', type: 'ansible_playbook', config: { playbook: 'missing.yml', inventory: 'localhost,' } }],
    });
    const run = await h.ctx.runs.trigger(actors.owner, {
      pipelineId: withAnsible.id,
      trigger: { type: 'manual', user: { id: actors.owner.id, username: actors.owner.username } },
    });
    await waitFor(async () => isFinalRunStatus((await h.ctx.repos.runs.status(run.id))!), 10000);
    ansibleRun.run = run.id;
    ansibleRun.step = run.steps[0]!.id;
  });
  after(() => h?.close());

  /** One request as `token`, to the API or the gateway; a redirect is the answer, not followed. */
  const send = async (rule: Rule, method: string, path: string, token: string, body: unknown) => {
    if (!rule.gateway) return h.request(method, path, { token, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
    const response = await fetch(h.gatewayUrl + path, {
      method,
      redirect: 'manual',
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, text: await response.text() };
  };

  test('every route has a rule (a new route without one fails here)', () => {
    assert.ok(routes.length > 30, `the route table was read (${routes.length} routes)`);
    assert.ok(gatewayRoutes.length >= 6, `the gateway's route table was read (${gatewayRoutes.length} routes)`);
    const api = [...routes, ...gatewayRoutes];
    const missing = api.filter((r) => !(ruleKey(r) in RULES));
    assert.deepEqual(missing, [], 'routes without a rule in RULES');
    const stale = Object.keys(RULES).filter((k) => !api.map(ruleKey).includes(k));
    assert.deepEqual(stale, [], 'rules for routes that no longer exist');
  });

  for (const [route, rule] of Object.entries(RULES)) {
    test(route, async () => {
      const [method, _url] = route.split(' ') as [string, string];
      const got: Partial<Record<Who | Scoped, number>> = {};
      const wanted: Partial<Record<Who | Scoped, number>> = {};
      const expected = (who: Who) => (typeof rule.expect === 'number' ? rule.expect : rule.expect[who]);
      for (const who of [...WHO, ...SCOPED]) {
        const f = rule.fresh ? await fixture() : shared;
        const r = await send(rule, method, rule.path(f), tokens[who], rule.body?.(f));
        got[who] = r.status;
        wanted[who] = who.includes(':') ? scopedExpectation(route, who as Scoped, expected('owner')) : expected(who as Who);
        // (The gateway's /metrics 404 says where metrics are instead: nothing there is hidden.)
        if (r.status === 404 && wanted[who] === 404 && !rule.gateway) assert.match(r.text, /not found/i, `${who}: the 404 looks like any other`);
      }
      assert.deepEqual(got, wanted);
    });
  }

  test('lists show the caller only their projects; what they cannot read is as if it did not exist', async () => {
    const names = async (who: Who, path: string) =>
      ((await h.request('GET', path, { token: tokens[who] })).json.results as Array<{ id: number }>).map((x) => x.id);
    for (const path of ['/api/pipelines/', '/api/pipeline-runs/', '/api/credentials/', '/api/inventories/', '/api/webhook-deliveries/']) {
      assert.ok((await names('viewer', path)).length > 0, `${path}: a member sees the project's`);
      assert.deepEqual(await names('outsider', path), [], `${path}: an outsider sees none of P's`);
    }
    const projects = await names('outsider', '/api/projects/');
    assert.ok(!projects.includes(shared.project));
    // Another project's pipeline id gives the same answer as an id that was never used.
    const unknown = await h.request('GET', '/api/pipelines/999999/', { token: tokens.outsider });
    const hidden = await h.request('GET', `/api/pipelines/${shared.pipeline}/`, { token: tokens.outsider });
    assert.equal(hidden.status, unknown.status);
    assert.deepEqual(hidden.json.error, unknown.json.error);
  });

  test('member changes that raise privileges are refused', async () => {
    const f = await fixture();
    const path = (id: number) => `/api/projects/${f.project}/members/${id}/`;
    // A developer making themselves owner.
    assert.equal((await h.request('PUT', path(f.member.developer), { token: tokens.developer, body: { role: 'owner' } })).status, 403);
    // A maintainer granting owner, to someone else or to themselves, or demoting an owner.
    assert.equal((await h.request('PUT', path(f.member.viewer), { token: tokens.maintainer, body: { role: 'owner' } })).status, 403);
    assert.equal((await h.request('PUT', path(f.member.maintainer), { token: tokens.maintainer, body: { role: 'owner' } })).status, 403);
    assert.equal((await h.request('PUT', path(f.member.owner), { token: tokens.maintainer, body: { role: 'viewer' } })).status, 403);
    // `admin` is not a project role at all.
    const admin = await h.request('PUT', path(f.member.viewer), { token: tokens.owner, body: { role: 'admin' } });
    assert.equal(admin.status, 400);
    // The last owner stays.
    assert.equal((await h.request('PUT', path(f.member.owner), { token: tokens.owner, body: { role: 'developer' } })).status, 409);
    const roles = (await h.request('GET', `/api/projects/${f.project}/members/`, { token: tokens.owner })).json as Array<{
      user: { username: string };
      role: string;
    }>;
    assert.deepEqual(Object.fromEntries(roles.map((m) => [m.user.username, m.role])), {
      developer: 'developer',
      maintainer: 'maintainer',
      owner: 'owner',
      viewer: 'viewer',
    });
  });

  test("a pipeline cannot name another project's credential", async () => {
    const mine = await fixture();
    const theirs = await h.ctx.credentials.create(actors.outsider, {
      name: unique('theirs'),
      kind: 'token',
      secret: { token: 'token-value-9' },
      project: (await h.request('GET', '/api/projects/', { token: tokens.outsider })).json.results[0].id,
    });
    const r = await h.request('PATCH', `/api/pipelines/${mine.pipeline}/`, {
      token: tokens.owner,
      body: { steps: [{ name: 's', type: 'shell_command', config: { command: 'true' }, credential: theirs.name }] },
    });
    assert.equal(r.status, 400, r.text);
    assert.ok(r.json.error.details['steps[0].credential'], r.text);
  });

  test("names of another project's pipelines and credentials cannot be found by creating or renaming (no 409 across projects)", async () => {
    const hidden = await fixture();
    const outsiderProject = (await h.request('GET', '/api/projects/', { token: tokens.outsider })).json.results[0].id as number;
    const pipelineName = (await h.request('GET', `/api/pipelines/${hidden.pipeline}/`, { token: tokens.owner })).json.name as string;
    const credentialName = (await h.request('GET', `/api/credentials/${hidden.credential}/`, { token: tokens.owner })).json.name as string;
    const created = await h.request('POST', '/api/pipelines/', {
      token: tokens.outsider,
      body: { name: pipelineName.toUpperCase(), project: outsiderProject, steps: [] },
    });
    assert.equal(created.status, 201, `a name taken only in a project the caller cannot see is free for them: ${created.text}`);
    const other = await h.request('POST', '/api/pipelines/', {
      token: tokens.outsider,
      body: { name: unique('rename-me'), project: outsiderProject, steps: [] },
    });
    const renamed = await h.request('PATCH', `/api/pipelines/${other.json.id}/`, { token: tokens.outsider, body: { name: pipelineName } });
    assert.equal(renamed.status, 409, 'a name taken in the same project is still a conflict');
    const credential = await h.request('POST', '/api/credentials/', {
      token: tokens.outsider,
      body: { name: credentialName, kind: 'token', secret: { token: 'token-value-3' }, project: outsiderProject },
    });
    assert.equal(credential.status, 201, credential.text);
    const again = await h.request('POST', '/api/credentials/', {
      token: tokens.outsider,
      body: { name: credentialName.toUpperCase(), kind: 'token', secret: { token: 'token-value-4' }, project: outsiderProject },
    });
    assert.equal(again.status, 409, 'within one project a credential name is unique');
  });

  test('WebSocket: the feed of a run of another project is refused like an unknown run; the all-runs feed shows only own projects', async () => {
    const url = (who: Who, path: string) => wsUrl(h, `${path}?token=${encodeURIComponent(tokens[who])}`);
    const outsider = await connectWs(url('outsider', `/ws/pipeline-runs/${shared.run}`));
    assert.equal((await outsider.closed).code, 4404);
    assert.equal(outsider.messages.length, 0, 'not one message');
    for (const who of ['admin', 'viewer'] as const) {
      const member = await connectWs(url(who, `/ws/pipeline-runs/${shared.run}`));
      assert.equal((await member.closed).code, 1000, `${who}: the finished run's state, then a normal close`);
      assert.equal(member.messages[0]?.data?.run_id, shared.run);
    }
    const allOutsider = await connectWs(url('outsider', '/ws/pipeline-runs/'));
    const allViewer = await connectWs(url('viewer', '/ws/pipeline-runs/'));
    const run = await h.request('POST', `/api/pipelines/${shared.pipeline}/run/`, { token: tokens.owner, body: {} });
    assert.equal(run.status, 201);
    await waitFor(async () => allViewer.messages.some((m) => m.data?.run_id === run.json.id && m.data?.status === 'success'), 10000);
    assert.equal(allOutsider.messages.filter((m) => m.data?.run_id === run.json.id).length, 0, "the outsider saw nothing of P's run");
  });
});
