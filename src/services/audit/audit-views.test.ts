import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditDiff } from '../../domain/audit.js';
import type { Pipeline } from '../../store/pipelines-repository.js';
import { pipelineAuditDiff, pipelineAuditView } from './audit-views.js';

const base: Pipeline = {
  id: 7,
  project_id: 1,
  name: 'app',
  description: 'seed',
  status: 'active',
  repository_url: 'https://git.example.com/team/app.git',
  branch: 'main',
  trigger_events: ['push'],
  secrets_for_forks: false,
  auto_cancel: false,
  badge_public: false,
  forge_credential: null,
  repository_credential: null,
  config_path: null,
  variables: { STAGE: { value: 'prod', secret: false }, TOKEN: { value: 's3cret', secret: true } },
  steps: [
    { name: 'Build', type: 'shell_command', config: { command: 'make' } },
    { name: 'Clone', type: 'git_checkout', config: { repository: 'https://user:pw@git.example.com/x.git' } },
  ],
  inputs: [],
  steps_count: 2,
  created_by: { id: 1, username: 'admin' },
  created_at: '2026-12-01T00:00:00.000Z',
  updated_at: '2026-12-01T00:00:00.000Z',
  last_run: null,
};

/** Changes of one or more fields, each applied to a fresh copy of `base`. */
const changes: Record<string, (p: Pipeline) => void> = {
  nothing: () => {},
  'the same values in new objects': (p) => {
    p.steps = JSON.parse(JSON.stringify(p.steps)) as Pipeline['steps'];
    p.variables = JSON.parse(JSON.stringify(p.variables)) as Pipeline['variables'];
    p.trigger_events = [...p.trigger_events];
  },
  description: (p) => void (p.description = 'run 1'),
  'name and status': (p) => {
    p.name = 'app2';
    p.status = 'inactive';
  },
  'repository url': (p) => void (p.repository_url = 'https://git.example.com/team/other.git'),
  'repository url to none': (p) => void (p.repository_url = null),
  'repository password only (redacted alike)': (p) => {
    p.repository_url = 'https://u:one@git.example.com/a.git';
  },
  'step repository password only (redacted alike)': (p) => {
    p.steps = [p.steps[0]!, { ...p.steps[1]!, config: { repository: 'https://user:other@git.example.com/x.git' } }];
  },
  'a step command': (p) => void (p.steps = [{ ...p.steps[0]!, config: { command: 'make all' } }, p.steps[1]!]),
  'trigger events': (p) => void (p.trigger_events = ['push', 'pull_request']),
  booleans: (p) => {
    p.secrets_for_forks = true;
    p.auto_cancel = true;
    p.badge_public = true;
  },
  'credentials and pipeline file': (p) => {
    p.forge_credential = 'forge';
    p.repository_credential = 'deploy-key';
    p.config_path = '.ansflow.yml';
  },
  'undefined optional fields': (p) => {
    delete (p as Partial<Pipeline>).config_path;
    delete (p as Partial<Pipeline>).inputs;
  },
  inputs: (p) => void (p.inputs = [{ name: 'version', type: 'string' }]),
  project: (p) => void (p.project_id = 2),
  'a secret value': (p) => void (p.variables = { ...p.variables, TOKEN: { value: 'other', secret: true } }),
  'a plain variable becomes secret': (p) => void (p.variables = { ...p.variables, STAGE: { value: 'prod', secret: true } }),
  'a variable added and one removed': (p) => void (p.variables = { TOKEN: p.variables.TOKEN!, NEW: { value: 'x', secret: false } }),
  'a secret added': (p) => void (p.variables = { ...p.variables, KEY: { value: 'k', secret: true } }),
  'no variables': (p) => void (p.variables = {}),
};

test('a pipeline update diff is the diff of its two whole audit views, for every kind of change', () => {
  const copy = () => structuredClone(base);
  for (const [what, change] of Object.entries(changes)) {
    for (const [before, after] of [
      [copy(), copy()],
      [copy(), copy()],
    ] as const) {
      change(after);
      const expected = auditDiff(pipelineAuditView(before), pipelineAuditView(after));
      const reversed = auditDiff(pipelineAuditView(after), pipelineAuditView(before));
      assert.deepEqual(pipelineAuditDiff(before, after), expected, what);
      assert.equal(JSON.stringify(pipelineAuditDiff(before, after)), JSON.stringify(expected), `${what}: as written`);
      assert.equal(JSON.stringify(pipelineAuditDiff(after, before)), JSON.stringify(reversed), `${what}: reversed`);
    }
  }
});

test('every change at once gives the same diff as the whole views, and never a secret value', () => {
  const before = structuredClone(base);
  const after = structuredClone(base);
  for (const change of Object.values(changes)) change(after);
  const diff = pipelineAuditDiff(before, after);
  assert.equal(JSON.stringify(diff), JSON.stringify(auditDiff(pipelineAuditView(before), pipelineAuditView(after))));
  assert.doesNotMatch(JSON.stringify(diff), /s3cret|other@|pw@/);
  assert.ok(Object.keys(diff).length > 10);
});
