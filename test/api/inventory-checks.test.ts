/**
 * Connectivity checks against the real server and real hosts: two sshd servers on loopback with
 * their own host keys, a host on a closed port, and a host whose Python does not exist. The check
 * runs Ansible's ping and fact gathering in the sandbox with the inventory's ssh_key credential:
 * reachable hosts come back with their facts (kept on the host's record), the closed port is
 * unreachable with ssh's reason, the missing Python is failed (not unreachable); `limit` selects;
 * an unknown host key is refused; a check of more hosts than the sync limit answers 202 and is
 * followed by id; viewers may read but not check; each check has its audit event.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { makeSshKey } from '../support/ssh-keys.js';
import { startSshHosts, type SshHosts } from '../support/ssh-hosts.js';
import { sshServerMissing } from '../support/ssh-git-server.js';
import { waitFor } from '../support/wait.js';

const skip = sshServerMissing();

interface CheckResult {
  host: string;
  status: string;
  reason: string | null;
  facts: Record<string, unknown> | null;
}

describe('inventory connectivity checks against real hosts', { skip: skip ?? false }, () => {
  let h: Harness;
  let admin: string;
  let hosts: SshHosts;
  let project: number;
  let inventory: number;
  const key = makeSshKey();
  const byHost = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.host, r]));

  before(async () => {
    hosts = await startSshHosts(2, key.publicKey);
    // Three hosts of four selected: more than the sync limit (2) answers 202.
    h = await startApi({ inventoryCheckSyncHosts: 2 });
    admin = await h.login();
    project = (await h.request('POST', '/api/projects/', { token: admin, body: { name: 'checks' } })).json.id;
    for (const [name, secret] of [
      ['deploy-key', { private_key: key.privateKey, known_hosts: hosts.knownHosts, username: hosts.user }],
      ['no-known-hosts', { private_key: key.privateKey, username: hosts.user }],
    ] as const) {
      const r = await h.request('POST', '/api/credentials/', { token: admin, body: { name, kind: 'ssh_key', project, secret } });
      assert.equal(r.status, 201, r.text);
    }
    const [web1, db1] = hosts.hosts;
    // db1 a second time under another name, with a Python that does not exist: connected, then failed.
    const content = `${hosts.inventory()}\n[broken]\nnopython ansible_host=127.0.0.1 ansible_port=${db1!.port} ansible_python_interpreter=/usr/bin/no-such-python\n`;
    assert.ok(web1);
    const r = await h.request('POST', '/api/inventories/', {
      token: admin,
      body: { name: 'fleet', format: 'ini', content, project, ssh_credential: 'deploy-key' },
    });
    assert.equal(r.status, 201, r.text);
    inventory = r.json.id;
  });
  after(async () => {
    await h?.close();
    await hosts?.stop();
  });

  test('limit of two hosts: answered when done; reachable with facts, unreachable with ssh reason', async () => {
    const r = await h.request('POST', `/api/inventories/${inventory}/check/`, { token: admin, body: { limit: 'web1,ghost' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'finished', r.text);
    assert.equal(r.json.limit, 'web1,ghost');
    assert.equal(r.json.host_count, 2);
    assert.deepEqual(r.json.counts, { reachable: 1, unreachable: 1, failed: 0 });
    const results = byHost(r.json.results);
    assert.deepEqual(Object.keys(results).sort(), ['ghost', 'web1']);
    assert.equal(results.web1!.status, 'reachable');
    assert.equal(results.web1!.reason, null);
    const facts = results.web1!.facts!;
    assert.equal(facts.system, 'Linux');
    assert.equal(typeof facts.distribution, 'string');
    assert.match(String(facts.python_version), /^3\.\d+/);
    assert.ok(Array.isArray(facts.ipv4_addresses));
    assert.equal(results.ghost!.status, 'unreachable');
    assert.match(String(results.ghost!.reason), new RegExp(`port ${hosts.closed.port}.*Connection refused`));
    assert.equal(results.ghost!.facts, null);

    // Kept on the hosts' records; the others have not been checked yet.
    const list = await h.request('GET', `/api/inventories/${inventory}/hosts/`, { token: admin });
    const records = Object.fromEntries((list.json as Array<{ name: string; check: CheckResult | null }>).map((x) => [x.name, x.check]));
    assert.equal(records.web1?.status, 'reachable');
    assert.equal((records.web1?.facts as Record<string, unknown>).python_version, facts.python_version);
    assert.equal(records.ghost?.status, 'unreachable');
    assert.equal(records.db1, null);
    assert.equal(records.nopython, null);

    const again = await h.request('GET', `/api/inventories/${inventory}/checks/${r.json.id}/`, { token: admin });
    assert.equal(again.status, 200);
    assert.deepEqual(again.json.results, r.json.results);
  });

  test('a host reached whose Python is missing is failed, not unreachable', async () => {
    const r = await h.request('POST', `/api/inventories/${inventory}/check/`, { token: admin, body: { limit: 'broken' } });
    assert.equal(r.status, 200, r.text);
    const [result] = r.json.results;
    assert.equal(result.host, 'nopython');
    assert.equal(result.status, 'failed');
    assert.match(result.reason, /no-such-python/);
  });

  test('more hosts than the sync limit: 202, followed by id to the end', async () => {
    const r = await h.request('POST', `/api/inventories/${inventory}/check/`, { token: admin, body: { limit: 'all:!broken' } });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.host_count, 3);
    assert.equal(r.json.status, 'running');
    assert.equal(r.headers.get('location'), `/api/inventories/${inventory}/checks/${r.json.id}/`);
    let check = r.json;
    await waitFor(
      async () => {
        check = (await h.request('GET', `/api/inventories/${inventory}/checks/${r.json.id}/`, { token: admin })).json;
        return check.status !== 'running';
      },
      120_000,
      'the check ends',
    );
    assert.equal(check.status, 'finished');
    assert.deepEqual(
      check.results.map((x: CheckResult) => [x.host, x.status]),
      [
        ['db1', 'reachable'],
        ['ghost', 'unreachable'],
        ['web1', 'reachable'],
      ],
    );
    assert.ok(check.finished_at);
    const list = await h.request('GET', `/api/inventories/${inventory}/hosts/`, { token: admin });
    assert.equal((list.json as Array<{ name: string; check: CheckResult | null }>).find((x) => x.name === 'db1')?.check?.status, 'reachable');
  });

  test('an unknown host key is refused: unreachable, saying so', async () => {
    const current = (await h.request('GET', `/api/inventories/${inventory}/`, { token: admin })).json;
    const put = await h.request('PUT', `/api/inventories/${inventory}/`, {
      token: admin,
      body: { name: current.name, format: current.format, content: current.content, ssh_credential: 'no-known-hosts' },
    });
    assert.equal(put.status, 200, put.text);
    const r = await h.request('POST', `/api/inventories/${inventory}/check/`, { token: admin, body: { limit: 'web1' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.results[0].status, 'unreachable');
    assert.match(r.json.results[0].reason, /Host key verification failed/);
  });

  test('bad limits are 400s naming the field; viewers read but may not check; the audit has each check', async () => {
    const bad = await h.request('POST', `/api/inventories/${inventory}/check/`, { token: admin, body: { limit: '--become' } });
    assert.equal(bad.status, 400, bad.text);
    assert.ok(bad.json.error.details.limit, bad.text);
    const none = await h.request('POST', `/api/inventories/${inventory}/check/`, { token: admin, body: { limit: 'nosuchhost' } });
    assert.equal(none.status, 400, none.text);
    assert.match(none.json.error.details.limit[0], /selects no host/);
    assert.equal((await h.request('GET', `/api/inventories/${inventory}/checks/999999/`, { token: admin })).status, 404);

    const viewer = await h.userToken('watcher', 'developer');
    const added = await h.request('POST', `/api/projects/${project}/members/`, { token: admin, body: { username: 'watcher', role: 'viewer' } });
    assert.equal(added.status, 201, added.text);
    const denied = await h.request('POST', `/api/inventories/${inventory}/check/`, { token: viewer, body: { limit: 'web1' } });
    assert.equal(denied.status, 403, denied.text);
    const hostsView = await h.request('GET', `/api/inventories/${inventory}/hosts/`, { token: viewer });
    assert.equal(hostsView.status, 200);

    const audit = await h.request('GET', `/api/audit-events/?project=${project}`, { token: admin });
    const checks = (audit.json.results as Array<{ action: string; diff: Record<string, { after?: unknown }> }>).filter((e) => e.action === 'inventory.check');
    assert.equal(checks.length, 4);
    assert.deepEqual(
      checks.map((e) => e.diff.limit?.after),
      ['web1', 'all:!broken', 'broken', 'web1,ghost'],
    );
  });
});
