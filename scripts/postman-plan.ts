/**
 * The story the Postman collection tells, in the order newman runs it: sign in, create a project,
 * a user, a credential and a pipeline, run it, read what it wrote, receive webhooks, then remove
 * what it created and sign out. Every request creates what it uses (names carry `{{suffix}}`,
 * fresh each run), so the collection runs again and again against the same server and never
 * touches anything it did not make.
 *
 * scripts/postman.ts joins each step to its operation in the OpenAPI documents (the method, URL,
 * summary, and the documented response schema every answer is checked against). An operation
 * with no step here, or a step naming no operation, stops the generation: a new route cannot be
 * left out of the collection.
 */

/** An integer collection variable inside a JSON body: `{"project": int('project_id')}` → `"project": {{project_id}}`. */
export const int = (variable: string) => `@@int:${variable}@@`;

export interface Step {
  /** `METHOD /path/{param}/` as in the OpenAPI document. */
  op: string;
  /** The request's name in the collection (default: the operation's summary). */
  name?: string;
  /** Path parameters: `{ id: '{{pipeline_id}}' }`. */
  params?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** A JSON body (objects) or raw text (strings). */
  body?: unknown;
  /** The statuses that pass; each must be documented. A script (`when`) picks one at run time. */
  expect: number[];
  /**
   * JavaScript (Postman sandbox) evaluating to the status to expect, when `expect` has several:
   * e.g. 401 when no webhook secret is configured. Without it any of `expect` passes.
   */
  when?: string;
  /** Collection variables to save from the JSON answer: `{ pipeline_id: 'id' }` (a path into the body). */
  save?: Record<string, string>;
  /** Sent as another bearer token (`{{user_token}}`), or `none` for no Authorization header. */
  auth?: string;
  /** Extra sandbox code run before the request (e.g. signing a webhook body). */
  prerequest?: string;
  /** Extra sandbox code run after the checks. */
  test?: string;
  /** Do not follow a redirect (the answer checked is the 3xx itself). */
  noRedirect?: boolean;
}

export interface Folder {
  name: string;
  steps: Step[];
}

const PIPELINE_STEPS = [
  {
    name: 'hello',
    type: 'shell_command',
    config: { command: 'echo "hello from the Postman collection" | tee hello.txt' },
    artifacts: { name: 'hello', paths: ['hello.txt'] },
    cache: { key: 'postman-{{ branch }}', paths: ['hello.txt'] },
  },
];

const GITHUB_PUSH = {
  ref: 'refs/heads/main',
  before: '0000000000000000000000000000000000000000',
  after: '1111111111111111111111111111111111111111',
  repository: {
    full_name: 'postman/nothing-builds-this',
    clone_url: 'https://github.com/postman/nothing-builds-this.git',
    html_url: 'https://github.com/postman/nothing-builds-this',
    default_branch: 'main',
  },
  commits: [],
  head_commit: null,
  pusher: { name: 'postman' },
};

const GITLAB_PUSH = {
  object_kind: 'push',
  ref: 'refs/heads/main',
  before: '0000000000000000000000000000000000000000',
  after: '2222222222222222222222222222222222222222',
  checkout_sha: '2222222222222222222222222222222222222222',
  user_username: 'postman',
  project: {
    path_with_namespace: 'postman/nothing-builds-this',
    git_http_url: 'https://gitlab.com/postman/nothing-builds-this.git',
    web_url: 'https://gitlab.com/postman/nothing-builds-this',
    default_branch: 'main',
  },
  commits: [],
};

/** 200/202 with the secret the collection variable holds, 401 when the server has none (the variable is empty). */
/**
 * A run-detail request that asks again (up to 60 times, half a second apart) until the run has
 * ended; `counter` is the collection variable counting the tries.
 */
const untilFinal = (counter: string) =>
  [
    "const finished = ['success', 'failed', 'cancelled', 'timeout', 'error'].includes(pm.response.json().status);",
    `const polls = Number(pm.collectionVariables.get('${counter}') || 0);`,
    'if (!finished && polls < 60) {',
    `  pm.collectionVariables.set('${counter}', polls + 1);`,
    '  setTimeout(() => {}, 500);',
    '  postman.setNextRequest(pm.info.requestName);',
    '} else {',
    `  pm.collectionVariables.unset('${counter}');`,
    "  pm.test('the run has ended', () => pm.expect(finished).to.equal(true));",
    '}',
  ].join('\n');

/** `status` when GET /api/auth/methods/ said the server offers single sign-on, else 404. */
const SSO_OR_404 = (status: number) => `pm.collectionVariables.get('sso_configured') === 'yes' ? ${status} : 404`;

const withSecret = (variable: string) => `pm.variables.get('${variable}') ? [200, 202] : [401]`;

export const PLAN: Folder[] = [
  {
    name: 'Sign in',
    steps: [
      {
        op: 'POST /api/auth/login/',
        auth: 'none',
        body: { username: '{{username}}', password: '{{password}}' },
        expect: [200],
        save: { access_token: 'access', refresh_token: 'refresh' },
        // A suffix for the names this run creates: the collection runs again against the same server.
        test: "pm.collectionVariables.set('suffix', Date.now().toString(36) + Math.floor(Math.random() * 1e4).toString(36));",
      },
      {
        op: 'POST /api/auth/refresh/',
        auth: 'none',
        body: { refresh: '{{refresh_token}}' },
        expect: [200],
        save: { access_token: 'access', refresh_token: 'refresh' },
      },
      {
        op: 'GET /api/auth/methods/',
        auth: 'none',
        expect: [200],
        test: "pm.collectionVariables.set('sso_configured', pm.response.json().sso ? 'yes' : 'no');",
      },
      { op: 'GET /api/config/', auth: 'none', expect: [200] },
      { op: 'GET /api/users/me/', expect: [200] },
      // Single sign-on: 404 when the server has no OpenID Connect provider; else a start, a failed callback and a refused code.
      { op: 'POST /api/auth/oidc/start/', auth: 'none', body: { next: '/' }, expect: [200, 404], when: SSO_OR_404(200) },
      {
        op: 'GET /api/auth/oidc/callback/',
        auth: 'none',
        query: { state: 'postman', code: 'postman' },
        expect: [302],
        noRedirect: true,
        test: "pm.test('to the login page with the reason', () => pm.expect(pm.response.headers.get('Location')).to.match(/^\\/login\\?sso_error=/));",
      },
      { op: 'POST /api/auth/oidc/exchange/', auth: 'none', body: { code: 'not-a-code-{{suffix}}' }, expect: [401, 404], when: SSO_OR_404(401) },
    ],
  },
  {
    name: 'Projects and users',
    steps: [
      {
        op: 'POST /api/projects/',
        body: { name: 'postman-{{suffix}}', description: 'Made by the Postman collection' },
        expect: [201],
        save: { project_id: 'id' },
      },
      { op: 'GET /api/projects/', query: { search: 'postman-{{suffix}}' }, expect: [200] },
      { op: 'GET /api/projects/{id}/', params: { id: '{{project_id}}' }, expect: [200] },
      {
        op: 'PUT /api/projects/{id}/',
        params: { id: '{{project_id}}' },
        body: { name: 'postman-{{suffix}}', description: 'Renamed by the Postman collection' },
        expect: [200],
      },
      {
        op: 'POST /api/users/',
        body: { username: 'postman-{{suffix}}', password: 'postman-password-1', email: 'postman-{{suffix}}@example.com', role: 'developer' },
        expect: [201],
        save: { user_id: 'id' },
      },
      { op: 'GET /api/users/', query: { page_size: '5' }, expect: [200] },
      { op: 'GET /api/users/{id}/', params: { id: '{{user_id}}' }, expect: [200] },
      { op: 'PATCH /api/users/{id}/', params: { id: '{{user_id}}' }, body: { first_name: 'Post', last_name: 'Man' }, expect: [200] },
      { op: 'POST /api/users/{id}/password/', params: { id: '{{user_id}}' }, body: { new_password: 'postman-password-2' }, expect: [204] },
      { op: 'POST /api/projects/{id}/members/', params: { id: '{{project_id}}' }, body: { username: 'postman-{{suffix}}', role: 'viewer' }, expect: [201] },
      { op: 'GET /api/projects/{id}/members/', params: { id: '{{project_id}}' }, expect: [200] },
      { op: 'PUT /api/projects/{id}/members/{user_id}/', params: { id: '{{project_id}}', user_id: '{{user_id}}' }, body: { role: 'developer' }, expect: [200] },
      {
        op: 'POST /api/auth/login/',
        name: 'Sign in as the new user',
        auth: 'none',
        body: { username: 'postman-{{suffix}}', password: 'postman-password-2' },
        expect: [200],
        save: { user_token: 'access' },
      },
      { op: 'PATCH /api/users/me/', auth: '{{user_token}}', body: { first_name: 'Postman' }, expect: [200] },
      {
        op: 'POST /api/users/me/password/',
        auth: '{{user_token}}',
        body: { current_password: 'postman-password-2', new_password: 'postman-password-3' },
        expect: [204],
      },
    ],
  },
  {
    name: 'Personal access tokens',
    steps: [
      { op: 'POST /api/users/me/tokens/', body: { name: 'postman-{{suffix}}', scopes: ['read'] }, expect: [201], save: { personal_token_id: 'id' } },
      { op: 'GET /api/users/me/tokens/', expect: [200] },
    ],
  },
  {
    name: 'Credentials',
    steps: [
      {
        op: 'POST /api/credentials/',
        body: {
          name: 'postman-{{suffix}}',
          kind: 'token',
          project: int('project_id'),
          description: 'Made by the Postman collection',
          secret: { token: 'postman-secret-token' },
        },
        expect: [201],
        save: { credential_id: 'id' },
      },
      { op: 'GET /api/credentials/', query: { project: '{{project_id}}' }, expect: [200] },
      { op: 'GET /api/credentials/{id}/', params: { id: '{{credential_id}}' }, expect: [200] },
      {
        op: 'PUT /api/credentials/{id}/',
        params: { id: '{{credential_id}}' },
        body: { name: 'postman-{{suffix}}', kind: 'token', project: int('project_id'), description: 'Kept secret, new description' },
        expect: [200],
      },
    ],
  },
  {
    name: 'Inventories',
    steps: [
      {
        op: 'POST /api/inventories/',
        body: {
          name: 'postman-{{suffix}}',
          description: 'Made by the Postman collection',
          format: 'ini',
          content: '[web]\nweb1 ansible_host=127.0.0.1\n',
          project: int('project_id'),
        },
        expect: [201],
        save: { inventory_id: 'id' },
      },
      { op: 'GET /api/inventories/', query: { project: '{{project_id}}' }, expect: [200] },
      { op: 'GET /api/inventories/{id}/', params: { id: '{{inventory_id}}' }, expect: [200] },
      {
        op: 'PUT /api/inventories/{id}/',
        params: { id: '{{inventory_id}}' },
        body: { name: 'postman-{{suffix}}', format: 'yaml', content: 'all:\n  children:\n    web:\n      hosts:\n        web1: {}\n        web2: {}\n' },
        expect: [200],
      },
      { op: 'GET /api/inventories/{id}/hosts/', params: { id: '{{inventory_id}}' }, expect: [200] },
      { op: 'GET /api/inventories/{id}/versions/', params: { id: '{{inventory_id}}' }, expect: [200] },
      { op: 'GET /api/inventories/{id}/versions/{version}/', params: { id: '{{inventory_id}}', version: '1' }, expect: [200] },
      { op: 'GET /api/inventories/{id}/diff/', params: { id: '{{inventory_id}}' }, query: { from: '1', to: '2' }, expect: [200] },
      { op: 'POST /api/inventories/{id}/versions/{version}/restore/', params: { id: '{{inventory_id}}', version: '1' }, expect: [200] },
      // web1 is 127.0.0.1 with no credential: the check answers (200), the host most likely unreachable.
      {
        op: 'POST /api/inventories/{id}/check/',
        params: { id: '{{inventory_id}}' },
        body: { limit: 'web1' },
        expect: [200],
        save: { inventory_check_id: 'id' },
      },
      { op: 'GET /api/inventories/{id}/checks/{cid}/', params: { id: '{{inventory_id}}', cid: '{{inventory_check_id}}' }, expect: [200] },
    ],
  },
  {
    name: 'Pipelines',
    steps: [
      { op: 'GET /api/step-types/', expect: [200] },
      { op: 'GET /api/schemas/pipeline-file.json', auth: 'none', expect: [200] },
      { op: 'POST /api/pipelines/lint/', body: { content: 'steps:\n  - name: hello\n    run: echo hello\n' }, expect: [200] },
      {
        op: 'POST /api/pipelines/',
        body: { name: 'postman-{{suffix}}', description: 'Made by the Postman collection', project: int('project_id'), steps: PIPELINE_STEPS },
        expect: [201],
        save: { pipeline_id: 'id' },
      },
      { op: 'GET /api/pipelines/', query: { project: '{{project_id}}' }, expect: [200] },
      { op: 'GET /api/pipelines/{id}/', params: { id: '{{pipeline_id}}' }, expect: [200] },
      {
        op: 'PUT /api/pipelines/{id}/',
        params: { id: '{{pipeline_id}}' },
        body: { name: 'postman-{{suffix}}', description: 'Replaced by the Postman collection', project: int('project_id'), steps: PIPELINE_STEPS },
        expect: [200],
      },
      {
        op: 'PATCH /api/pipelines/{id}/',
        params: { id: '{{pipeline_id}}' },
        body: {
          badge_public: true,
          inputs: [{ name: 'GREETING', type: 'choice', options: ['hello', 'hi'], default: 'hello', description: 'How the run says hello' }],
        },
        expect: [200],
      },
      { op: 'GET /api/pipelines/{id}/export/', params: { id: '{{pipeline_id}}' }, expect: [200] },
      { op: 'GET /api/pipelines/{id}/retention/', params: { id: '{{pipeline_id}}' }, expect: [200] },
      { op: 'PUT /api/pipelines/{id}/retention/', params: { id: '{{pipeline_id}}' }, body: { keep_runs: 50, keep_days: null }, expect: [200] },
    ],
  },
  {
    name: 'Runs',
    steps: [
      {
        op: 'POST /api/pipelines/{id}/run/',
        name: 'Start a run with a launch input',
        params: { id: '{{pipeline_id}}' },
        body: { branch: 'main', inputs: { GREETING: 'hi' } },
        expect: [201],
        save: { run_id: 'id', step_id: 'steps.0.id' },
      },
      // The step is short: the run may have ended before the cancel arrives (409).
      { op: 'POST /api/pipeline-runs/{id}/cancel/', params: { id: '{{run_id}}' }, expect: [202, 409] },
      { op: 'GET /api/pipeline-runs/{id}/', params: { id: '{{run_id}}' }, expect: [200], test: untilFinal('run_polls') },
      { op: 'GET /api/pipeline-runs/{id}/logs/', params: { id: '{{run_id}}' }, query: { offset: '0' }, expect: [200] },
      // A run that succeeded (or was cancelled before any step failed) has nothing to retry: 409.
      { op: 'POST /api/pipeline-runs/{id}/retry/', params: { id: '{{run_id}}' }, body: { from: 'failed' }, expect: [201, 409] },
      {
        op: 'GET /api/pipeline-runs/{id}/artifacts/',
        params: { id: '{{run_id}}' },
        expect: [200],
        // A run cancelled above stored nothing: the downloads below then ask for an id that is not there (404).
        test: "pm.collectionVariables.set('artifact_id', (pm.response.json().results.find((a) => a.status === 'stored') || { id: 2147483647 }).id);",
      },
      { op: 'GET /api/pipeline-runs/{id}/artifacts/{artifact_id}/download/', params: { id: '{{run_id}}', artifact_id: '{{artifact_id}}' }, expect: [200, 404] },
      {
        op: 'GET /api/pipeline-runs/{id}/artifacts/{artifact_id}/files/{path}',
        params: { id: '{{run_id}}', artifact_id: '{{artifact_id}}', path: 'hello.txt' },
        expect: [200, 404],
      },
      { op: 'GET /api/pipelines/{id}/caches/', params: { id: '{{pipeline_id}}' }, expect: [200] },
      {
        op: 'DELETE /api/pipelines/{id}/caches/{cache_id}/',
        params: { id: '{{pipeline_id}}', cache_id: '{{missing_cache_id}}' },
        prerequest: "pm.collectionVariables.set('missing_cache_id', 2147483647);",
        expect: [404],
      },
      { op: 'DELETE /api/pipelines/{id}/caches/', params: { id: '{{pipeline_id}}' }, expect: [200] },
      { op: 'POST /api/pipeline-runs/{id}/pin/', params: { id: '{{run_id}}' }, expect: [200] },
      { op: 'DELETE /api/pipeline-runs/{id}/pin/', params: { id: '{{run_id}}' }, expect: [200] },
      { op: 'GET /api/pipelines/{id}/runs/', params: { id: '{{pipeline_id}}' }, expect: [200] },
      { op: 'GET /api/pipeline-runs/', query: { project: '{{project_id}}', page_size: '10' }, expect: [200] },
      { op: 'GET /api/pipelines/{id}/badge.svg', params: { id: '{{pipeline_id}}' }, auth: 'none', expect: [200] },
    ],
  },
  {
    name: 'Environments and approvals',
    steps: [
      {
        op: 'POST /api/environments/',
        body: {
          name: 'postman-{{suffix}}',
          project: int('project_id'),
          description: 'Made by the Postman collection',
          required_approvals: 1,
          prevent_self_approval: false,
        },
        expect: [201],
        save: { environment_id: 'id' },
      },
      { op: 'GET /api/environments/', query: { project: '{{project_id}}' }, expect: [200] },
      { op: 'GET /api/environments/{id}/', params: { id: '{{environment_id}}' }, expect: [200] },
      {
        op: 'PUT /api/environments/{id}/',
        params: { id: '{{environment_id}}' },
        body: {
          name: 'postman-{{suffix}}',
          project: int('project_id'),
          description: 'One approval before a deployment',
          required_approvals: 1,
          prevent_self_approval: false,
        },
        expect: [200],
      },
      {
        op: 'POST /api/pipelines/',
        name: 'Create a pipeline that deploys to the environment',
        body: {
          name: 'postman-deploy-{{suffix}}',
          project: int('project_id'),
          steps: [{ name: 'deploy', type: 'shell_command', config: { command: 'echo deploying' }, environment: 'postman-{{suffix}}' }],
        },
        expect: [201],
        save: { deploy_pipeline_id: 'id' },
      },
      {
        op: 'POST /api/pipelines/{id}/run/',
        name: 'Start a deployment (it waits for an approval)',
        params: { id: '{{deploy_pipeline_id}}' },
        body: {},
        expect: [201],
        save: { deploy_run_id: 'id' },
        test: "pm.test('waiting for an approval', () => pm.expect(pm.response.json().status).to.equal('waiting'));",
      },
      { op: 'GET /api/pipeline-runs/{id}/approvals/', params: { id: '{{deploy_run_id}}' }, expect: [200] },
      {
        op: 'POST /api/pipeline-runs/{id}/approvals/',
        params: { id: '{{deploy_run_id}}' },
        body: { decision: 'approve', comment: 'Approved by the Postman collection' },
        expect: [201],
      },
      {
        op: 'GET /api/pipeline-runs/{id}/',
        name: 'The approved deployment runs to its end',
        params: { id: '{{deploy_run_id}}' },
        expect: [200],
        test: untilFinal('deploy_polls'),
      },
      { op: 'GET /api/environments/{id}/deployments/', params: { id: '{{environment_id}}' }, expect: [200] },
    ],
  },
  {
    name: 'Schedules',
    steps: [
      {
        op: 'POST /api/pipelines/{id}/schedules/',
        name: 'Schedule the pipeline on weekday mornings in Berlin (disabled: the story does not wait for it)',
        params: { id: '{{pipeline_id}}' },
        body: { cron: '0 9 * * 1-5', timezone: 'Europe/Berlin', enabled: false, description: 'Made by the Postman collection' },
        expect: [201],
        save: { schedule_id: 'id' },
      },
      { op: 'GET /api/pipelines/{id}/schedules/', params: { id: '{{pipeline_id}}' }, expect: [200] },
      {
        op: 'PUT /api/pipelines/{id}/schedules/{sid}/',
        name: 'Enable it: the answer carries the next five fire times',
        params: { id: '{{pipeline_id}}', sid: '{{schedule_id}}' },
        body: { cron: '0 9 * * 1-5', timezone: 'Europe/Berlin', enabled: true },
        expect: [200],
        test: "pm.test('five next fire times', () => pm.expect(pm.response.json().next_fire_times).to.have.lengthOf(5));",
      },
      { op: 'DELETE /api/pipelines/{id}/schedules/{sid}/', params: { id: '{{pipeline_id}}', sid: '{{schedule_id}}' }, expect: [204] },
    ],
  },
  {
    name: 'Notifications',
    steps: [
      {
        op: 'POST /api/notification-channels/',
        name: 'A webhook channel for failures and fixes of the project (signed with its write-only secret)',
        body: {
          name: 'postman-{{suffix}}',
          project: int('project_id'),
          kind: 'webhook',
          events: ['run_failed', 'run_fixed'],
          // Nothing listens on the discard port: the test below records a refused connection, retried later.
          config: { url: 'http://127.0.0.1:9/postman' },
          secret: 'postman-signing-secret',
        },
        expect: [201],
        save: { channel_id: 'id' },
        test: "pm.test('the secret is never shown', () => { pm.expect(pm.response.json()).to.not.have.property('secret'); pm.expect(pm.response.json().secret_set).to.equal(true); });",
      },
      { op: 'GET /api/notification-channels/', query: { project: '{{project_id}}' }, expect: [200] },
      { op: 'GET /api/notification-channels/{id}/', params: { id: '{{channel_id}}' }, expect: [200] },
      {
        op: 'POST /api/notification-channels/{id}/test/',
        name: 'Send a test: the answer is the delivery with its first attempt (here: connection refused, to be retried)',
        params: { id: '{{channel_id}}' },
        expect: [200],
        test: "pm.test('one attempt recorded', () => pm.expect(pm.response.json().attempt_log).to.have.lengthOf(1));",
      },
      { op: 'GET /api/notification-channels/{id}/deliveries/', params: { id: '{{channel_id}}' }, expect: [200] },
      {
        op: 'PUT /api/notification-channels/{id}/',
        name: 'Disable it (the secret, not sent, is kept)',
        params: { id: '{{channel_id}}' },
        body: { name: 'postman-{{suffix}}', kind: 'webhook', events: ['run_failed'], enabled: false, config: { url: 'http://127.0.0.1:9/postman' } },
        expect: [200],
      },
      { op: 'DELETE /api/notification-channels/{id}/', params: { id: '{{channel_id}}' }, expect: [204] },
    ],
  },
  {
    name: 'Webhooks and integrations',
    steps: [
      {
        op: 'POST /api/v1/webhooks/github',
        auth: 'none',
        headers: {
          'Content-Type': 'application/json',
          'X-GitHub-Event': 'push',
          'X-GitHub-Delivery': '{{$guid}}',
          'X-Hub-Signature-256': '{{github_signature}}',
        },
        body: GITHUB_PUSH,
        expect: [200, 202, 401],
        when: withSecret('github_webhook_secret'),
        // GitHub signs the raw body with the shared secret (HMAC-SHA256).
        prerequest: [
          "const secret = pm.variables.get('github_webhook_secret') || 'no secret configured';",
          "pm.collectionVariables.set('github_signature', 'sha256=' + CryptoJS.HmacSHA256(pm.request.body.raw, secret).toString(CryptoJS.enc.Hex));",
        ].join('\n'),
      },
      {
        op: 'POST /api/v1/webhooks/gitlab',
        auth: 'none',
        headers: {
          'Content-Type': 'application/json',
          'X-Gitlab-Event': 'Push Hook',
          'X-Gitlab-Token': '{{gitlab_webhook_token}}',
          'Idempotency-Key': '{{$guid}}',
        },
        body: GITLAB_PUSH,
        expect: [200, 202, 401],
        when: withSecret('gitlab_webhook_token'),
      },
      { op: 'GET /api/webhook-deliveries/', query: { page_size: '5' }, expect: [200], save: { delivery_id: 'results.0.id' } },
      // The newest delivery: the GitLab push above when a token is configured (nothing builds it: 200 with no runs), else its rejection (422).
      {
        op: 'POST /api/webhook-deliveries/{id}/redeliver/',
        params: { id: '{{delivery_id}}' },
        expect: [200, 422],
        when: "pm.variables.get('gitlab_webhook_token') ? 200 : 422",
      },
      // No Jenkins controller is configured on a fresh server: 502 names it; then there is no build to read.
      {
        op: 'POST /api/v1/integrations/jenkins/trigger',
        body: { job_name: 'postman-{{suffix}}' },
        expect: [202, 502],
        save: { jenkins_build_id: 'id' },
        // Without a build, the next request reads one that does not exist (404).
        test: "if (pm.response.code === 502) pm.collectionVariables.set('jenkins_build_id', 'none');",
      },
      {
        op: 'GET /api/v1/integrations/jenkins/builds/{id}',
        name: 'A triggered Jenkins build (404 when the trigger found no Jenkins)',
        params: { id: '{{jenkins_build_id}}' },
        expect: [200, 404],
        when: "pm.collectionVariables.get('jenkins_build_id') === 'none' ? 404 : 200",
        prerequest: "if (pm.collectionVariables.get('jenkins_build_id') === 'none') pm.variables.set('jenkins_build_id', '2147483647');",
      },
      { op: 'GET /api/v1/system/status', auth: 'none', expect: [200, 503] },
      // With ANSFLOW_METRICS_TOKEN in `metrics_token`, the metrics; without one the gateway has none (they are on their own listener).
      {
        op: 'GET /metrics',
        auth: '{{metrics_token}}',
        expect: [200, 404],
        when: "pm.variables.get('metrics_token') ? 200 : 404",
      },
      // The story's step is a shell step: it has no Ansible results (404), and the run no failed hosts to re-run (409).
      { op: 'GET /api/pipeline-runs/{id}/steps/{step_id}/ansible/', params: { id: '{{run_id}}', step_id: '{{step_id}}' }, expect: [404] },
      { op: 'POST /api/pipeline-runs/{id}/rerun-failed-hosts/', params: { id: '{{run_id}}' }, expect: [409] },
      { op: 'GET /api/audit-events/', query: { project: '{{project_id}}', page_size: '10' }, expect: [200] },
    ],
  },
  {
    name: 'Clean up and sign out',
    steps: [
      { op: 'DELETE /api/pipelines/{id}/', params: { id: '{{pipeline_id}}' }, expect: [204] },
      { op: 'DELETE /api/pipelines/{id}/', name: 'Delete the deploying pipeline', params: { id: '{{deploy_pipeline_id}}' }, expect: [204] },
      { op: 'DELETE /api/environments/{id}/', params: { id: '{{environment_id}}' }, expect: [204] },
      { op: 'DELETE /api/credentials/{id}/', params: { id: '{{credential_id}}' }, expect: [204] },
      { op: 'DELETE /api/inventories/{id}/', params: { id: '{{inventory_id}}' }, expect: [204] },
      { op: 'DELETE /api/projects/{id}/members/{user_id}/', params: { id: '{{project_id}}', user_id: '{{user_id}}' }, expect: [204] },
      { op: 'DELETE /api/projects/{id}/', params: { id: '{{project_id}}' }, expect: [204] },
      { op: 'DELETE /api/users/me/tokens/{id}/', params: { id: '{{personal_token_id}}' }, expect: [204] },
      { op: 'POST /api/auth/logout/', body: { refresh: '{{refresh_token}}' }, expect: [204] },
    ],
  },
];
