/**
 * Connectivity checks live over the gateway's WebSocket (`/ws/inventories/{id}`), against the real
 * server, real sshd hosts and a host the test holds: a check's per-host results arrive one by one
 * while the check provably goes on (a host it waits for has not answered yet), each before the
 * check's end, whose tally matches them; a viewer joining later gets the latest check at once.
 * Permissions are the inventory's read: a user outside its project is closed 4404 with no data and
 * never receives its events, a viewer of the project receives them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from '../support/api-harness.js';
import { makeSshKey } from '../support/ssh-keys.js';
import { startSshHosts, type SshHosts } from '../support/ssh-hosts.js';
import { sshServerMissing } from '../support/ssh-git-server.js';
import { connectWs, startGateway, wsUrl, type Recorded } from './gateway-support.js';
import { waitFor } from '../support/wait.js';
import { heldHost, type HeldHost } from '../support/held-host.js';

const skip = sshServerMissing();

interface Result {
  host: string;
  status: string;
  reason: string | null;
  facts: Record<string, unknown> | null;
}

const checkMessages = (ws: Recorded, checkId: number) => ws.messages.filter((m) => m.type === 'inventory_check' && m.data.check_id === checkId);

describe('inventory connectivity checks live over the WebSocket', { skip: skip ?? false }, () => {
  let h: Harness;
  let admin: string;
  let hosts: SshHosts;
  let gate: HeldHost;
  let project: number;
  let inventory: number;
  const key = makeSshKey();
  const feed = (token: string, id = inventory) => wsUrl(h, `/ws/inventories/${id}?token=${encodeURIComponent(token)}`);

  before(async () => {
    hosts = await startSshHosts(1, key.publicKey);
    gate = await heldHost();
    // Every check of more than one host answers 202 and goes on.
    h = await startGateway({ inventoryCheckSyncHosts: 1 });
    admin = await h.login();
    project = (await h.request('POST', '/api/projects/', { token: admin, body: { name: 'live-checks' } })).json.id;
    const credential = await h.request('POST', '/api/credentials/', {
      token: admin,
      body: { name: 'deploy-key', kind: 'ssh_key', project, secret: { private_key: key.privateKey, known_hosts: hosts.knownHosts, username: hosts.user } },
    });
    assert.equal(credential.status, 201, credential.text);
    // `gate` waits for the test: ssh's own timeout for it is raised so only the test ends its wait.
    const content = `${hosts.inventory()}\n[held]\ngate ansible_host=127.0.0.1 ansible_port=${gate.port} ansible_ssh_timeout=3600\n`;
    const r = await h.request('POST', '/api/inventories/', {
      token: admin,
      body: { name: 'fleet', format: 'ini', content, project, ssh_credential: 'deploy-key' },
    });
    assert.equal(r.status, 201, r.text);
    inventory = r.json.id;
  });
  after(async () => {
    gate?.release();
    await h?.close();
    await hosts?.stop();
    await gate?.close();
  });

  test("a check's per-host results arrive live, one by one, before its end; a later viewer gets the latest check at once", async () => {
    const ws = await connectWs(feed(admin));
    const watching = await ws.next(() => true);
    assert.deepEqual(watching, { type: 'inventory_feed', data: { inventory_id: inventory, latest: null } }, 'in place, never checked');
    const started = await h.request('POST', `/api/inventories/${inventory}/check/`, { token: admin, body: {} });
    assert.equal(started.status, 202, started.text);
    const checkId = started.json.id as number;
    assert.equal(started.json.host_count, 3);

    // The closed port answers at once; the check cannot end while `gate` is held.
    const ghost = await ws.next((m) => m.type === 'inventory_check' && m.data.results.some((r: Result) => r.host === 'ghost'), 120_000);
    assert.equal(ghost.data.inventory_id, inventory);
    assert.equal(ghost.data.check_id, checkId);
    assert.equal(ghost.data.status, 'running');
    assert.equal(ghost.data.host_count, 3);
    assert.equal(ghost.data.counts, null);
    assert.deepEqual(
      ghost.data.results.map((r: Result) => r.host),
      ['ghost'],
      'one host per message',
    );
    assert.equal(ghost.data.results[0].status, 'unreachable');
    assert.match(ghost.data.results[0].reason, /Connection refused/);
    // (Ansible may connect to it only now: it cannot end before the test lets it.)
    await waitFor(async () => gate.connected(), 60_000, 'Ansible to connect to the held host');
    const meanwhile = await h.request('GET', `/api/inventories/${inventory}/checks/${checkId}/`, { token: admin });
    assert.equal(meanwhile.json.status, 'running', 'the check goes on while its results arrive');
    assert.ok(!checkMessages(ws, checkId).some((m) => m.data.status !== 'running'), 'no end yet');

    gate.release();
    const end = await ws.next((m) => m.type === 'inventory_check' && m.data.check_id === checkId && m.data.status !== 'running', 120_000);
    assert.equal(end.data.status, 'finished');
    assert.deepEqual(end.data.counts, { reachable: 1, unreachable: 2, failed: 0 });
    assert.deepEqual(end.data.results, []);

    const messages = checkMessages(ws, checkId);
    assert.equal(messages.at(-1), end, 'the end comes last');
    assert.equal(messages[0].data.status, 'running');
    assert.deepEqual(messages[0].data.results, [], 'first: the check started');
    const live = messages.slice(1, -1);
    assert.ok(live.every((m) => m.data.status === 'running' && m.data.results.length === 1));
    const byHost: Record<string, Result> = Object.fromEntries(live.map((m) => [m.data.results[0].host as string, m.data.results[0] as Result]));
    assert.deepEqual(Object.keys(byHost).sort(), ['gate', 'ghost', 'web1']);
    assert.equal(byHost.web1!.status, 'reachable');
    assert.match(String(byHost.web1!.facts?.python_version), /^3\.\d+/);
    assert.equal(byHost.gate!.status, 'unreachable');

    // What came live is what the API keeps.
    const stored = await h.request('GET', `/api/inventories/${inventory}/checks/${checkId}/`, { token: admin });
    assert.equal(stored.json.status, 'finished');
    assert.deepEqual(
      stored.json.results.map((r: Result) => [r.host, r.status]),
      Object.entries(byHost)
        .map(([host, r]) => [host, r.status])
        .sort(),
    );

    const later = await connectWs(feed(admin));
    const { data: first } = await later.next(() => true);
    assert.equal(first.inventory_id, inventory);
    assert.equal(first.latest.check_id, checkId);
    assert.equal(first.latest.status, 'finished');
    assert.deepEqual(first.latest.counts, { reachable: 1, unreachable: 2, failed: 0 });
    assert.deepEqual(first.latest.results, stored.json.results);
    ws.socket.close();
    later.socket.close();
  });

  test("the inventory's readers only: outsiders closed 4404 with no data and never sent its events; a viewer of the project gets them", async () => {
    const viewer = await h.userToken('live-viewer', 'developer');
    const outsider = await h.userToken('live-outsider', 'developer');
    const added = await h.request('POST', `/api/projects/${project}/members/`, { token: admin, body: { username: 'live-viewer', role: 'viewer' } });
    assert.equal(added.status, 201, added.text);
    // The outsider may read an inventory of a project of their own.
    const own = (await h.request('POST', '/api/projects/', { token: admin, body: { name: 'outsider-own' } })).json.id;
    await h.request('POST', `/api/projects/${own}/members/`, { token: admin, body: { username: 'live-outsider', role: 'developer' } });
    const ownInventory = await h.request('POST', '/api/inventories/', {
      token: admin,
      body: { name: 'elsewhere', format: 'ini', content: 'lone ansible_host=127.0.0.1\n', project: own },
    });
    assert.equal(ownInventory.status, 201, ownInventory.text);
    assert.equal((await h.request('GET', `/api/inventories/${inventory}/`, { token: outsider })).status, 404, 'the REST read is refused too');

    const refused = await connectWs(feed(outsider));
    assert.equal((await refused.closed).code, 4404);
    assert.deepEqual(refused.messages, [], 'not one message');
    const unknown = await connectWs(feed(admin, 999999));
    assert.equal((await unknown.closed).code, 4404);
    const noToken = await connectWs(wsUrl(h, `/ws/inventories/${inventory}`));
    assert.equal((await noToken.closed).code, 4401);
    assert.deepEqual(noToken.messages, []);

    const elsewhere = await connectWs(feed(outsider, ownInventory.json.id));
    const member = await connectWs(feed(viewer));
    const inPlace = await member.next(() => true);
    assert.equal(inPlace.type, 'inventory_feed');
    assert.equal(inPlace.data.latest.status, 'finished', "the first test's check");
    await elsewhere.next((m) => m.type === 'inventory_feed');

    // One host (the sync limit): answered when done; its events reach the viewer.
    const r = await h.request('POST', `/api/inventories/${inventory}/check/`, { token: admin, body: { limit: 'ghost' } });
    assert.equal(r.status, 200, r.text);
    const end = await member.next((m) => m.type === 'inventory_check' && m.data.check_id === r.json.id && m.data.status === 'finished', 60_000);
    assert.deepEqual(end.data.counts, { reachable: 0, unreachable: 1, failed: 0 });
    assert.ok(checkMessages(member, r.json.id).some((m) => m.data.results.some((x: Result) => x.host === 'ghost')));

    // The outsider's own feed was open all along and got nothing of the other inventory.
    assert.equal(elsewhere.socket.readyState, elsewhere.socket.OPEN);
    assert.deepEqual(
      elsewhere.messages.filter((m) => m.data?.inventory_id !== ownInventory.json.id),
      [],
    );
    assert.deepEqual(
      elsewhere.messages,
      [{ type: 'inventory_feed', data: { inventory_id: ownInventory.json.id, latest: null } }],
      'only its own, never checked',
    );
    elsewhere.socket.close();
    member.socket.close();
  });
});
