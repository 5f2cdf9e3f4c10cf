/**
 * Ansible runs end to end against the real server (its sandboxed worker) and real hosts: three
 * sshd servers on loopback with their own host keys and a fourth host on a closed port, a stored
 * inventory naming an ssh_key credential (known_hosts checked). The run's per-host results stream
 * over the WebSocket while the playbook runs and are served by the API; unreachable is reported
 * apart from failed; a re-run on failed hosts touches only those hosts; launch overrides reach
 * Ansible and need `run_override`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { makeSshKey } from '../support/ssh-keys.js';
import { startSshHosts, type SshHosts } from '../support/ssh-hosts.js';
import { sshServerMissing } from '../support/ssh-git-server.js';
import { waitFor } from '../support/wait.js';
import { isFinalStatus } from '../support/run-status.js';
import { connectWs, wsUrl } from '../gateway/gateway-support.js';

const skip = sshServerMissing();

describe('Ansible runs against real hosts', { skip: skip ?? false }, () => {
  let h: Harness;
  let admin: string;
  let hosts: SshHosts;
  let dir: string;
  let pipeline: number;
  const key = makeSshKey();

  const playbook = () => `
- hosts: all
  gather_facts: false
  tasks:
    - name: host folder
      file: { path: "${dir}/{{ inventory_hostname }}", state: directory, mode: "0777" }
    - name: count the run
      shell: "echo run >> ${dir}/{{ inventory_hostname }}/runs"
    - name: look for the broken marker
      stat: { path: "${dir}/{{ inventory_hostname }}.broken" }
      register: marker
    - name: refuse while broken
      fail: { msg: "{{ inventory_hostname }} is broken" }
      when: marker.stat.exists
`;

  const waitRun = async (id: number) => {
    await waitFor(async () => isFinalStatus((await h.request('GET', `/api/pipeline-runs/${id}/`, { token: admin })).json.status), 120_000, `run ${id} ends`);
    return (await h.request('GET', `/api/pipeline-runs/${id}/`, { token: admin })).json;
  };
  const lines = (host: string) =>
    existsSync(join(dir, host, 'runs'))
      ? readFileSync(join(dir, host, 'runs'), 'utf8')
          .trim()
          .split('\n').length
      : 0;

  before(async () => {
    hosts = await startSshHosts(3, key.publicKey);
    dir = mkdtempSync(join(tmpdir(), 'ansflow-ansible-targets-'));
    h = await startApi();
    admin = await h.login();
    const project = (await h.request('POST', '/api/projects/', { token: admin, body: { name: 'fleet' } })).json.id;
    const credential = await h.request('POST', '/api/credentials/', {
      token: admin,
      body: { name: 'deploy-key', kind: 'ssh_key', project, secret: { private_key: key.privateKey, known_hosts: hosts.knownHosts, username: hosts.user } },
    });
    assert.equal(credential.status, 201, credential.text);
    const inventory = await h.request('POST', '/api/inventories/', {
      token: admin,
      body: { name: 'prod', format: 'ini', content: hosts.inventory(), project, ssh_credential: 'deploy-key' },
    });
    assert.equal(inventory.status, 201, inventory.text);
    const created = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: {
        name: 'deploy',
        project,
        steps: [
          // The pause lets the test's WebSocket join before Ansible starts.
          { name: 'prepare', type: 'shell_command', config: { command: `sleep 2\ncat > site.yml <<'YAML'\n${playbook()}\nYAML` } },
          { name: 'deploy', type: 'ansible_playbook', config: { playbook: 'site.yml', inventory_name: 'prod' } },
        ],
      },
    });
    assert.equal(created.status, 201, created.text);
    pipeline = created.json.id;
  });
  after(async () => {
    await h?.close();
    await hosts?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  let firstRun: { id: number; steps: Array<{ id: number; name: string }> };

  test('per-host results stream while the playbook runs and are served after; unreachable apart from failed', async () => {
    writeFileSync(join(dir, 'db2.broken'), '');
    const started = await h.request('POST', `/api/pipelines/${pipeline}/run/`, { token: admin, body: {} });
    assert.equal(started.status, 201, started.text);
    const ws = await connectWs(wsUrl(h, `/ws/pipeline-runs/${started.json.id}?token=${encodeURIComponent(admin)}`));
    const live = await ws.next((m) => m.type === 'ansible_events' && m.data.events.some((e: { kind: string }) => e.kind === 'host'), 90_000);
    const done = await waitRun(started.json.id);
    firstRun = done;
    assert.equal(done.status, 'failed');
    const step = done.steps.find((s: { name: string }) => s.name === 'deploy');
    assert.equal(live.data.step_id, step.id);
    // The first host result reached the WebSocket before the run ended.
    const firstHost = ws.messages.findIndex((m) => m.type === 'ansible_events' && m.data.events.some((e: { kind: string }) => e.kind === 'host'));
    const final = ws.messages.findIndex((m) => m.type === 'pipeline_status_update' && isFinalStatus(m.data.status));
    assert.ok(firstHost >= 0 && (final === -1 || firstHost < final), 'a host result came before the final status');
    ws.socket.close();

    const r = await h.request('GET', `/api/pipeline-runs/${done.id}/steps/${step.id}/ansible/`, { token: admin });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.finished, true);
    assert.deepEqual(r.json.hosts, ['db1', 'db2', 'ghost', 'web1']);
    assert.deepEqual(
      r.json.tasks.map((t: { name: string }) => t.name),
      ['host folder', 'count the run', 'look for the broken marker', 'refuse while broken'],
    );
    const [folder, , , refuse] = r.json.tasks;
    assert.equal(folder.hosts.ghost.status, 'unreachable');
    assert.equal(folder.hosts.web1.status, 'changed');
    assert.equal(refuse.hosts.db2.status, 'failed');
    assert.equal(refuse.hosts.db2.message, 'db2 is broken');
    assert.equal(refuse.hosts.web1.status, 'skipped');
    assert.equal(r.json.recap.ghost.unreachable, 1);
    assert.equal(r.json.recap.ghost.failed, 0);
    assert.equal(r.json.recap.db2.failed, 1);
    assert.equal(r.json.recap.db2.unreachable, 0);
    for (const host of ['web1', 'db1', 'db2']) assert.equal(lines(host), 1, host);
    // Not an Ansible step: no results to ask for.
    const prepare = done.steps.find((s: { name: string }) => s.name === 'prepare');
    assert.equal((await h.request('GET', `/api/pipeline-runs/${done.id}/steps/${prepare.id}/ansible/`, { token: admin })).status, 404);
  });

  test('a re-run on failed hosts touches only those hosts and says which', async () => {
    rmSync(join(dir, 'db2.broken'));
    const r = await h.request('POST', `/api/pipeline-runs/${firstRun.id}/rerun-failed-hosts/`, { token: admin });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json.failed, ['db2']);
    assert.deepEqual(r.json.unreachable, ['ghost']);
    assert.equal(r.json.limit, 'db2,ghost');
    const done = await waitRun(r.json.run.id);
    assert.equal(done.status, 'failed', 'ghost is still unreachable');
    assert.equal(lines('db2'), 2, 'db2 ran again');
    assert.equal(lines('web1'), 1, 'web1 was not touched');
    assert.equal(lines('db1'), 1, 'db1 was not touched');
    const step = done.steps.find((s: { name: string }) => s.name === 'deploy');
    const results = await h.request('GET', `/api/pipeline-runs/${done.id}/steps/${step.id}/ansible/`, { token: admin });
    assert.deepEqual(results.json.hosts, ['db2', 'ghost']);
    assert.equal(results.json.recap.db2.failed, 0);
  });

  test('launch overrides reach Ansible (limit, check mode) and need run_override', async () => {
    const r = await h.request('POST', `/api/pipelines/${pipeline}/run/`, { token: admin, body: { ansible: { limit: 'web1', check_mode: true } } });
    assert.equal(r.status, 201, r.text);
    const done = await waitRun(r.json.id);
    assert.equal(done.status, 'success');
    assert.equal(lines('web1'), 1, 'check mode ran nothing');
    const log = await h.request('GET', `/api/pipeline-runs/${done.id}/logs/`, { token: admin });
    assert.match(log.text, /--limit=web1 --check/);
    const bad = await h.request('POST', `/api/pipelines/${pipeline}/run/`, { token: admin, body: { ansible: { limit: '--become' } } });
    assert.equal(bad.status, 400, bad.text);
    assert.ok(bad.json.error.details['ansible.limit'], bad.text);
    const viewer = await h.userToken('watcher', 'viewer');
    const denied = await h.request('POST', `/api/pipelines/${pipeline}/run/`, { token: viewer, body: { ansible: { limit: 'web1' } } });
    assert.equal(denied.status, 404, 'not a member: as if it did not exist');
  });

  test('a run whose hosts all succeeded has nothing to re-run (409)', async () => {
    const runs = await h.request('GET', `/api/pipelines/${pipeline}/runs/`, { token: admin });
    const ok = runs.json.results.find((x: { status: string }) => x.status === 'success');
    const r = await h.request('POST', `/api/pipeline-runs/${ok.id}/rerun-failed-hosts/`, { token: admin });
    assert.equal(r.status, 409, r.text);
  });
});
