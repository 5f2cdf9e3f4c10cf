/**
 * Pipelines as code from private repositories, through the real server: the pipeline's
 * `repository_credential` reads its file (git over ssh with a passphrase-protected key from a real
 * sshd; git over http behind Basic auth with a token, nginx + git http-backend) and the file's own
 * git_checkout of that repository uses it too. Without the credential the run fails saying why;
 * another project's pipeline naming the same repository without the credential cannot read what
 * the first one's fetch brought into the server (each credential has its own mirror). The secret
 * is in no API body and no log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type Harness } from '../support/api-harness.js';
import { createBareRepo, makeTempDir, type FixtureRepo, type TempDir } from '../support/git-fixtures.js';
import { generateSshKey, sshServerMissing, startSshGitServer, type SshGitServer, type SshKeyPair } from '../support/ssh-git-server.js';
import { nginxGitServerMissing, startNginxGitServer, type NginxGitServer } from '../support/nginx-git-server.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';

const skip = sshServerMissing() ?? nginxGitServerMissing() ?? undefined;
const TOKEN = 'glpat-file/Tok3n+priv=ate';
const SECRET_LINE = 'private-marker-7c1e';

/** A file whose checkout step reads the repository back and prints a file only the repository has. */
const fileFor = (url: string) =>
  [
    'steps:',
    `  - { name: checkout, type: git_checkout, config: { repository: "${url}", depth: 1 } }`,
    '  - { name: show, run: "cat private.txt", needs: [checkout] }',
    '',
  ].join('\n');

describe('pipeline files from private repositories, read with the pipeline repository credential', { skip }, () => {
  let h: Harness;
  let admin: string;
  let tmp: TempDir;
  let key: SshKeyPair;
  let sshd: SshGitServer;
  let http: NginxGitServer;
  let sshRepo: FixtureRepo;
  let otherProject: number;

  before(async () => {
    tmp = makeTempDir();
    key = generateSshKey(tmp.path, 'deploy', 'file pass phrase');
    sshd = await startSshGitServer({ authorizedKeys: [key.publicKey] });
    http = await startNginxGitServer(tmp.path, { username: 'x-access-token', password: TOKEN });
    const sshBare = `${tmp.path}/ssh-app.git`;
    sshRepo = createBareRepo(tmp.path, 'ssh-app', { history: [{ '.ansflow.yml': fileFor(sshd.url(sshBare)), 'private.txt': `${SECRET_LINE} over ssh\n` }] });
    createBareRepo(tmp.path, 'http-app', { history: [{ '.ansflow.yml': fileFor(http.url('http-app')), 'private.txt': `${SECRET_LINE} over http\n` }] });
    h = await startApi();
    admin = await h.login();
    const create = async (body: unknown) => assert.equal((await h.request('POST', '/api/credentials/', { token: admin, body })).status, 201);
    await create({
      name: 'deploy-key',
      kind: 'ssh_key',
      secret: { private_key: key.privateKey, passphrase: 'file pass phrase', known_hosts: sshd.knownHostsLine },
    });
    await create({ name: 'forge-token', kind: 'token', secret: { token: TOKEN } });
    otherProject = (await h.request('POST', '/api/projects/', { token: admin, body: { name: 'other-team' } })).json.id;
  });
  after(async () => {
    await h?.close();
    await sshd?.stop();
    await http?.stop();
    tmp?.cleanup();
  });

  const pipeline = async (body: Record<string, unknown>) => {
    const r = await h.request('POST', '/api/pipelines/', { token: admin, body: { config_path: '.ansflow.yml', ...body } });
    assert.equal(r.status, 201, r.text);
    return r.json as { id: number; repository_credential: string | null };
  };
  const run = async (pipelineId: number, body: Record<string, unknown> = {}) => {
    const r = await h.request('POST', `/api/pipelines/${pipelineId}/run/`, { token: admin, body });
    assert.equal(r.status, 201, r.text);
    const done = await waitFor(
      async () => {
        const d = await h.request('GET', `/api/pipeline-runs/${r.json.id}/`, { token: admin });
        return isFinalStatus(d.json.status) ? d : undefined;
      },
      90_000,
      `run ${r.json.id}`,
    );
    const log = (await h.request('GET', `/api/pipeline-runs/${r.json.id}/logs/`, { token: admin })).text;
    return { run: done.json, body: done.text, log };
  };

  test('a credential that does not exist in the pipeline project is refused, naming the field', async () => {
    const r = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: { name: 'no-such', repository_url: sshd.url(sshRepo.bare), config_path: '.ansflow.yml', repository_credential: 'missing' },
    });
    assert.equal(r.status, 400, r.text);
    assert.match(JSON.stringify(r.json), /repository_credential/);
    const elsewhere = await h.request('POST', '/api/pipelines/', {
      token: admin,
      body: {
        name: 'other-project',
        project: otherProject,
        repository_url: sshd.url(sshRepo.bare),
        config_path: '.ansflow.yml',
        repository_credential: 'deploy-key',
      },
    });
    assert.equal(elsewhere.status, 400, "another project's credential is not this project's");
    const noRepo = await h.request('POST', '/api/pipelines/', { token: admin, body: { name: 'no-repo', repository_credential: 'deploy-key' } });
    assert.equal(noRepo.status, 400);
    assert.ok(noRepo.json.details?.repository_credential ?? JSON.stringify(noRepo.json).includes('repository_credential'));
  });

  test('over ssh: the file is read and its checkout made with the key; without it the run says why', async () => {
    const p = await pipeline({ name: 'ssh-file', repository_url: sshd.url(sshRepo.bare), repository_credential: 'deploy-key' });
    assert.equal(p.repository_credential, 'deploy-key');
    const ok = await run(p.id);
    assert.equal(ok.run.status, 'success', `${ok.log}\n${JSON.stringify(ok.run)}\n${sshd.log()}`);
    assert.equal(ok.run.commit, sshRepo.commits[0]);
    assert.match(ok.log, new RegExp(`${SECRET_LINE} over ssh`));
    const stored = await h.ctx.repos.runs.findById(ok.run.id);
    assert.equal(stored?.definition.repository_credential, 'deploy-key', 'the snapshot keeps the name only');
    assert.equal(stored?.definition.steps[0]?.credential, 'deploy-key', "the file's checkout of the repository uses it");
    for (const line of key.privateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')))
      assert.ok(!ok.body.includes(line) && !ok.log.includes(line) && !JSON.stringify(stored).includes(line), 'the key leaked');

    const without = await pipeline({ name: 'ssh-file-anonymous', repository_url: sshd.url(sshRepo.bare) });
    const refused = await run(without.id);
    assert.equal(refused.run.status, 'error');
    assert.deepEqual(refused.run.steps, []);
    assert.match(refused.run.config_errors[0].message, /^the repository could not be read: could not fetch /);
  });

  test("another project's pipeline without the credential cannot read, by commit, what the first one fetched", async () => {
    const p = await pipeline({ name: 'ssh-file-elsewhere', project: otherProject, repository_url: sshd.url(sshRepo.bare) });
    // The commit is in the server's mirror filled with deploy-key; this pipeline has no credential.
    const attempt = await run(p.id, { commit: sshRepo.commits[0] });
    assert.equal(attempt.run.status, 'error', JSON.stringify(attempt.run));
    assert.deepEqual(attempt.run.steps, []);
    assert.match(attempt.run.config_errors[0].message, /could not be read/);
    assert.ok(!attempt.body.includes(SECRET_LINE) && !attempt.log.includes(SECRET_LINE));
  });

  test('over http with a token: the file and its checkout authenticate; the token is nowhere', async () => {
    const p = await pipeline({ name: 'http-file', repository_url: http.url('http-app'), repository_credential: 'forge-token' });
    const ok = await run(p.id);
    assert.equal(ok.run.status, 'success', `${ok.log}\n${JSON.stringify(ok.run)}\n${http.log()}`);
    assert.match(ok.log, new RegExp(`${SECRET_LINE} over http`));
    assert.ok(http.requests().some((r) => r.user === 'x-access-token' && r.request.includes('/http-app.git/git-upload-pack')));
    for (const text of [ok.body, ok.log, JSON.stringify(http.requests())]) assert.ok(!text.includes(TOKEN) && !text.includes(encodeURIComponent(TOKEN)));
  });
});
