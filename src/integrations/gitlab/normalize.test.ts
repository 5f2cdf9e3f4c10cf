import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fixturePath, readJsonFixture } from '../../../test/support/fixtures.js';
import { asTrigger, assertTrigger, clone, ignoredReason, type Expected, type JsonObject } from '../../../test/support/normalize-kit.js';
import { normalizeGitlabDelivery } from './normalize.js';

const load = (file: string) => readJsonFixture<JsonObject>('webhooks', 'gitlab', file);

const HELLO = ['https://gitlab.com/gitlab-org/hello-world.git', 'git@gitlab.com:gitlab-org/hello-world.git', 'https://gitlab.com/gitlab-org/hello-world'];
const DIASPORA = ['http://example.com/mike/diaspora.git', 'git@example.com:mike/diaspora.git', 'http://example.com/mike/diaspora'];
const EXAMPLE = [
  'http://example.com/jsmith/example.git',
  'git@example.com:jsmith/example.git',
  'http://example.com/jsmith/example',
  'ssh://git@example.com/jsmith/example.git',
];
const GITLAB_TEST = ['http://example.com/gitlabhq/gitlab-test.git', 'git@example.com:gitlabhq/gitlab-test.git', 'http://example.com/gitlabhq/gitlab-test'];
const SUBGROUP = [
  'https://gitlab.com/group1/group2/group3/grp2repo.git',
  'git@gitlab.com:group1/group2/group3/grp2repo.git',
  'https://gitlab.com/group1/group2/group3/grp2repo',
];

const push = (branch: string, commit: string, author: string, urls: string[], title?: string): Expected => ({
  trigger: { kind: 'push', branch, ref: `refs/heads/${branch}`, commit, action: null, author, urls, ...(title ? { title } : {}) },
});
const tag = (name: string, commit: string, author: string, urls: string[]): Expected => ({
  trigger: { kind: 'tag', branch: name, ref: `refs/tags/${name}`, commit, action: null, author, urls },
});
const mr = (action: string, branch: string, commit: string, author: string, urls: string[], title: string): Expected => ({
  trigger: { kind: 'pull_request', branch, ref: 'refs/merge-requests/1/head', commit, action, author, urls, title },
});

/** Every GitLab webhook fixture, the header GitLab sends it with, and what it must become. */
const FIXTURES: Record<string, { event: string; expect: Expected }> = {
  'branch_create.go-scm.json': {
    event: 'Push Hook',
    expect: push('feature', 'c4c79227ed610f1151f05bbc5be33b4f340d39c8', 'sytses', HELLO, 'update readme'),
  },
  'branch_delete.go-scm.json': { event: 'Push Hook', expect: { ignored: /^branch deleted$/ } },
  'merge_request.docs.json': {
    event: 'Merge Request Hook',
    expect: mr('open', 'ms-viewport', 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', 'root', GITLAB_TEST, 'MS-Viewport'),
  },
  'merge_request.go-gitlab.json': {
    event: 'Merge Request Hook',
    expect: mr('open', 'ms-viewport', 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', 'user1', GITLAB_TEST, 'MS-Viewport'),
  },
  'pull_request_close.go-scm.json': { event: 'Merge Request Hook', expect: { ignored: /action "close" does not trigger/ } },
  'pull_request_create.go-scm.json': {
    event: 'Merge Request Hook',
    expect: mr('open', 'feature', 'c4c79227ed610f1151f05bbc5be33b4f340d39c8', 'sytses', HELLO, 'update readme'),
  },
  'pull_request_merge.go-scm.json': { event: 'Merge Request Hook', expect: { ignored: /action "merge" does not trigger/ } },
  'pull_request_reopen.go-scm.json': {
    event: 'Merge Request Hook',
    expect: mr('reopen', 'feature', 'c4c79227ed610f1151f05bbc5be33b4f340d39c8', 'sytses', HELLO, 'update readme'),
  },
  'push.docs.json': { event: 'Push Hook', expect: push('master', 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', 'jsmith', DIASPORA, 'fixed readme') },
  'push.go-gitlab.json': { event: 'Push Hook', expect: push('master', 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', 'jsmith', DIASPORA) },
  'push.go-scm.json': { event: 'Push Hook', expect: push('master', '2adc9465c4edfc33834e173fe89436a7cb899a1d', 'sytses', HELLO, 'added readme') },
  'push_subgroup.go-scm.json': { event: 'Push Hook', expect: push('master', '2adc9465c4edfc33834e173fe89436a7cb899a1d', 'sytses', SUBGROUP) },
  'tag_create.go-scm.json': { event: 'Tag Push Hook', expect: tag('v1.0.0', '2adc9465c4edfc33834e173fe89436a7cb899a1d', 'sytses', HELLO) },
  'tag_delete.go-scm.json': { event: 'Tag Push Hook', expect: { ignored: /^tag deleted$/ } },
  // The documentation example has no user_username: the display name stands in.
  'tag_push.docs.json': { event: 'Tag Push Hook', expect: tag('v1.0.0', '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7', 'John Smith', EXAMPLE) },
  'tag_push.go-gitlab.json': { event: 'Tag Push Hook', expect: tag('v1.0.0', '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7', 'jsmith', EXAMPLE) },
};

test('the table covers every GitLab webhook fixture', () => {
  const files = readdirSync(fixturePath('webhooks', 'gitlab')).filter((f) => f.endsWith('.json') && !f.startsWith('headers.'));
  assert.deepEqual(Object.keys(FIXTURES).sort(), files.sort());
});

test('the header examples announce the event their body is', () => {
  const examples = readJsonFixture<{ deliveries: Array<{ file: string; headers: Record<string, string> }> }>('webhooks', 'gitlab', 'headers.examples.json');
  for (const d of examples.deliveries) assert.equal(d.headers['X-Gitlab-Event'], FIXTURES[d.file]?.event, d.file);
});

for (const [file, { event, expect }] of Object.entries(FIXTURES)) {
  test(`GitLab ${file} (${event}) normalises as expected`, () => {
    const result = normalizeGitlabDelivery(event, load(file));
    if ('ignored' in expect) {
      assert.match(ignoredReason(result, false), expect.ignored);
      return;
    }
    assertTrigger(asTrigger(result), 'gitlab', event, expect.trigger);
  });
}

test('a merge request carries its iid and target branch', () => {
  assert.deepEqual(asTrigger(normalizeGitlabDelivery('Merge Request Hook', load('pull_request_create.go-scm.json'))).pullRequest, {
    number: 1,
    targetBranch: 'master',
  });
});

test('a merge request update triggers only when it brings new commits (oldrev)', () => {
  const body = clone(load('pull_request_create.go-scm.json'));
  const attrs = body.object_attributes as JsonObject;
  attrs.action = 'update';
  assert.equal(ignoredReason(normalizeGitlabDelivery('Merge Request Hook', body), false), 'merge request updated without new commits');
  attrs.oldrev = '';
  assert.equal(ignoredReason(normalizeGitlabDelivery('Merge Request Hook', body), false), 'merge request updated without new commits');
  attrs.oldrev = '9217710ce8c7e1eae7a5d1c45f6e43e1c769f866';
  const t = asTrigger(normalizeGitlabDelivery('Merge Request Hook', body));
  assert.equal(t.action, 'update');
  assert.equal(t.commit, 'c4c79227ed610f1151f05bbc5be33b4f340d39c8');
});

test('approval and other merge request actions are ignored', () => {
  for (const action of ['approved', 'unapproved', 'approval', 'unapproval']) {
    const body = clone(load('pull_request_create.go-scm.json'));
    (body.object_attributes as JsonObject).action = action;
    assert.match(ignoredReason(normalizeGitlabDelivery('Merge Request Hook', body), false), new RegExp(`"${action}" does not trigger`));
  }
});

test('a deletion is recognised from checkout_sha alone or from after alone', () => {
  const a = clone(load('push.go-scm.json'));
  a.checkout_sha = null;
  assert.equal(ignoredReason(normalizeGitlabDelivery('Push Hook', a), false), 'branch deleted');
  const b = clone(load('push.go-scm.json'));
  b.after = '0'.repeat(40);
  assert.equal(ignoredReason(normalizeGitlabDelivery('Push Hook', b), false), 'branch deleted');
  const c = clone(load('tag_create.go-scm.json'));
  delete c.checkout_sha;
  assert.equal(ignoredReason(normalizeGitlabDelivery('Tag Push Hook', c), false), 'tag deleted');
});

test('an event header that disagrees with object_kind or the ref is refused as malformed', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['Push Hook', 'tag_create.go-scm.json', /"Push Hook" but object_kind is "tag_push"/],
    ['Tag Push Hook', 'push.go-scm.json', /"Tag Push Hook" but object_kind is "push"/],
    ['Merge Request Hook', 'push.go-scm.json', /"Merge Request Hook" but object_kind is "push"/],
    ['Push Hook', 'merge_request.docs.json', /"Push Hook" but object_kind is "merge_request"/],
  ];
  for (const [event, file, reason] of cases) assert.match(ignoredReason(normalizeGitlabDelivery(event, load(file)), true), reason);
  const body = clone(load('push.go-scm.json'));
  body.ref = 'refs/tags/v1';
  assert.match(ignoredReason(normalizeGitlabDelivery('Push Hook', body), true), /not under refs\/heads\//);
  const tagBody = clone(load('tag_create.go-scm.json'));
  tagBody.ref = 'refs/heads/main';
  assert.match(ignoredReason(normalizeGitlabDelivery('Tag Push Hook', tagBody), true), /not under refs\/tags\//);
});

test('missing or mistyped payload fields are refused with a reason, never thrown', () => {
  const p = load('push.go-scm.json');
  const m = load('pull_request_create.go-scm.json');
  const attrs = m.object_attributes as JsonObject;
  const cases: Array<[string, unknown, RegExp]> = [
    ['Push Hook', null, /not a JSON object/],
    ['Push Hook', [p], /not a JSON object/],
    ['Push Hook', { ...p, object_kind: undefined }, /object_kind is missing/],
    ['Push Hook', { ...p, ref: ['refs/heads/x'] }, /no string "ref"/],
    ['Push Hook', { ...p, after: 1 }, /no string "after"/],
    ['Push Hook', { ...p, checkout_sha: 5 }, /non-string "checkout_sha"/],
    ['Push Hook', { ...p, checkout_sha: 'abc' }, /no valid checkout_sha/],
    ['Push Hook', { ...p, project: null, repository: null }, /no repository URL/],
    ['Merge Request Hook', { ...m, object_attributes: 'x' }, /no object_attributes/],
    ['Merge Request Hook', { ...m, object_attributes: { ...attrs, action: undefined } }, /no string object_attributes\.action/],
    ['Merge Request Hook', { ...m, object_attributes: { ...attrs, source_branch: null } }, /no string source_branch/],
    ['Merge Request Hook', { ...m, object_attributes: { ...attrs, last_commit: {} } }, /no valid last_commit\.id/],
    ['Merge Request Hook', { ...m, project: {}, repository: undefined }, /no repository URL/],
  ];
  for (const [event, body, reason] of cases) {
    assert.match(ignoredReason(normalizeGitlabDelivery(event, body), true), reason, reason.source);
  }
});

test('missing headers are malformed; other hooks are ignored', () => {
  assert.match(ignoredReason(normalizeGitlabDelivery(undefined, load('push.go-scm.json')), true), /Missing X-Gitlab-Event/);
  for (const event of ['Note Hook', 'Pipeline Hook', 'System Hook', 'constructor', '__proto__']) {
    assert.match(ignoredReason(normalizeGitlabDelivery(event, load('push.go-scm.json')), false), /does not trigger runs/, event);
  }
});

test('a source branch built to inject shell commands is refused as a branch', () => {
  for (const branch of ['a$(id)', 'x;rm', 'q`w`', '-c', 'a b']) {
    const body = clone(load('pull_request_create.go-scm.json'));
    (body.object_attributes as JsonObject).source_branch = branch;
    assert.match(ignoredReason(normalizeGitlabDelivery('Merge Request Hook', body), true), /Refusing merge request source branch/, branch);
  }
  const push = clone(load('push.go-scm.json'));
  push.ref = 'refs/heads/a|b';
  assert.match(ignoredReason(normalizeGitlabDelivery('Push Hook', push), true), /Refusing branch name/);
});

test('a merge request from another project comes from a fork', () => {
  const same = asTrigger(normalizeGitlabDelivery('Merge Request Hook', load('merge_request.docs.json')));
  assert.equal(same.fromFork, false);

  const forked = clone(load('merge_request.docs.json'));
  (forked.object_attributes as JsonObject).source_project_id = 15;
  assert.equal(asTrigger(normalizeGitlabDelivery('Merge Request Hook', forked)).fromFork, true);
});

test('without project ids the source and target paths decide; a request that shows neither counts as a fork', () => {
  const body = clone(load('merge_request.docs.json'));
  const attrs = body.object_attributes as JsonObject;
  delete attrs.source_project_id;
  assert.equal(asTrigger(normalizeGitlabDelivery('Merge Request Hook', body)).fromFork, false, 'same path_with_namespace');
  attrs.source = { ...(attrs.source as JsonObject), path_with_namespace: 'mallory/awesome_project' };
  assert.equal(asTrigger(normalizeGitlabDelivery('Merge Request Hook', body)).fromFork, true);
  delete attrs.source;
  assert.equal(asTrigger(normalizeGitlabDelivery('Merge Request Hook', body)).fromFork, true);
});
