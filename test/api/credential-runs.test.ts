/**
 * Credentials end to end, through the real server and its sandbox: credentials created through the
 * API, pipelines whose steps name them, git over ssh (a real sshd) and over http (nginx + git
 * http-backend behind Basic auth), a later step that pushes without naming the credential, and a
 * step that prints its token in every encoding. The secret must be in no API body, no log, no
 * .git/config, no workspace file and no command line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApi, type Harness } from '../support/api-harness.js';
import { createBareRepo, git, makeTempDir, type FixtureRepo, type TempDir } from '../support/git-fixtures.js';
import { generateSshKey, sshServerMissing, startSshGitServer, type SshGitServer, type SshKeyPair } from '../support/ssh-git-server.js';
import { nginxGitServerMissing, startNginxGitServer, type NginxGitServer } from '../support/nginx-git-server.js';
import { watchCommandLines } from '../support/command-lines.js';
import { isFinalStatus } from '../support/run-status.js';
import { waitFor } from '../support/wait.js';

const skip = sshServerMissing() ?? nginxGitServerMissing() ?? undefined;
const TOKEN = 'glpat-e2e/Tok3n+with=odd&chars';

describe('steps with credentials, through the real server', { skip }, () => {
  let h: Harness;
  let admin: string;
  let tmp: TempDir;
  let repo: FixtureRepo;
  let key: SshKeyPair;
  let sshd: SshGitServer;
  let http: NginxGitServer;

  before(async () => {
    tmp = makeTempDir();
    repo = createBareRepo(tmp.path, 'app', { history: [{ a: '1' }, { a: '2' }] });
    key = generateSshKey(tmp.path, 'deploy', 'e2e pass phrase');
    sshd = await startSshGitServer({ authorizedKeys: [key.publicKey] });
    http = await startNginxGitServer(tmp.path, { username: 'x-access-token', password: TOKEN });
    h = await startApi();
    admin = await h.login();
    const create = async (body: unknown) => {
      const r = await h.request('POST', '/api/credentials/', { token: admin, body });
      assert.equal(r.status, 201, r.text);
      assert.ok(!r.text.includes(TOKEN) && !r.text.includes('PRIVATE KEY'), 'a credential body never holds its value');
    };
    await create({
      name: 'deploy-key',
      kind: 'ssh_key',
      secret: { private_key: key.privateKey, passphrase: 'e2e pass phrase', known_hosts: sshd.knownHostsLine },
    });
    await create({ name: 'forge-token', kind: 'token', secret: { token: TOKEN } });
  });
  after(async () => {
    await h?.close();
    await sshd?.stop();
    await http?.stop();
    tmp?.cleanup();
  });

  const run = async (name: string, steps: unknown[]) => {
    const p = await h.request('POST', '/api/pipelines/', { token: admin, body: { name, steps } });
    assert.equal(p.status, 201, p.text);
    const r = await h.request('POST', `/api/pipelines/${p.json.id}/run/`, { token: admin, body: {} });
    assert.equal(r.status, 201, r.text);
    const done = await waitFor(
      async () => {
        const d = await h.request('GET', `/api/pipeline-runs/${r.json.id}/`, { token: admin });
        return isFinalStatus(d.json.status) ? d : undefined;
      },
      90_000,
      `run of ${name}`,
    );
    const log = (await h.request('GET', `/api/pipeline-runs/${r.json.id}/logs/`, { token: admin })).text;
    return { run: done.json, body: done.text, log, workspace: join(h.dataDir, 'workspaces', `run-${r.json.id}`) };
  };

  const later = {
    name: 'push',
    type: 'shell_command',
    config: {
      command: [
        'git -c user.name=Step -c user.email=step@example.invalid commit -q --allow-empty -m later',
        'git push -q origin HEAD:refs/heads/$BRANCH_OUT',
        'git fetch -q origin',
        'git pull -q --ff-only origin main',
        'echo pushed',
      ].join(' && '),
    },
  };

  test('git over ssh with a passphrase-protected key: checkout, then a later step pushes; the key is nowhere', async () => {
    const watch = watchCommandLines();
    const result = await run('over-ssh', [
      { name: 'checkout', type: 'git_checkout', config: { repository: sshd.url(repo.bare), branch: 'main', depth: 0 }, credential: 'deploy-key' },
      { ...later, config: { ...later.config, env: { BRANCH_OUT: 'from-ssh' } } },
    ]);
    const argv = watch.stop();
    assert.equal(result.run.status, 'success', `${result.log}\n${sshd.log()}`);
    const stored = await h.ctx.repos.runs.findById(result.run.id);
    assert.equal(stored?.definition.steps[0]?.credential, 'deploy-key', "the run's definition snapshot keeps the name only");
    const snapshot = JSON.stringify(stored);
    assert.ok(git(repo.bare, ['rev-parse', 'refs/heads/from-ssh']));
    const config = readFileSync(join(result.workspace, '.git', 'config'), 'utf8');
    assert.match(config, /sshCommand = .*StrictHostKeyChecking=yes/);
    for (const line of key.privateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) {
      for (const [where, text] of [
        ['run body', result.body],
        ['stored run', snapshot],
        ['log', result.log],
        ['.git/config', config],
        ['argv', argv.join('\n')],
      ] as const)
        assert.ok(!text.includes(line), `the key is in the ${where}`);
    }
    assert.ok(!argv.join('\n').includes('e2e pass phrase'), 'the passphrase is on a command line');
  });

  test('git over http with a token: checkout and a later push authenticate through the helper; the token is nowhere', async () => {
    const watch = watchCommandLines();
    const result = await run('over-http', [
      { name: 'checkout', type: 'git_checkout', config: { repository: http.url('app'), branch: 'main', depth: 0 }, credential: 'forge-token' },
      { ...later, config: { ...later.config, env: { BRANCH_OUT: 'from-http' } } },
    ]);
    const argv = watch.stop();
    assert.equal(result.run.status, 'success', `${result.log}\n${http.log()}`);
    assert.ok(git(repo.bare, ['rev-parse', 'refs/heads/from-http']));
    assert.ok(http.requests().some((r) => r.user === 'x-access-token' && r.request.startsWith('POST /app.git/git-receive-pack')));
    const config = readFileSync(join(result.workspace, '.git', 'config'), 'utf8');
    for (const [where, text] of [
      ['run body', result.body],
      ['log', result.log],
      ['.git/config', config],
      ['argv', argv.join('\n')],
      ['request lines', JSON.stringify(http.requests())],
    ] as const)
      assert.ok(!text.includes(TOKEN) && !text.includes(encodeURIComponent(TOKEN)), `the token is in the ${where}`);
  });

  test('a step printing its token plain, base64, URL-encoded, JSON-escaped and in two writes shows only masks', async () => {
    const node = JSON.stringify(process.execPath);
    const command = [
      'printf "plain=%s\\n" "$ANSFLOW_TOKEN"',
      'printf "b64=%s\\n" "$(printf %s "$ANSFLOW_TOKEN" | base64 -w0)"',
      `printf "uri=%s\\n" "$(${node} -e 'process.stdout.write(encodeURIComponent(process.env.ANSFLOW_TOKEN))')"`,
      `printf "json=%s\\n" "$(${node} -e 'process.stdout.write(JSON.stringify(process.env.ANSFLOW_TOKEN))')"`,
      'printf "split=%s" "${ANSFLOW_TOKEN:0:6}"; sleep 0.3; printf "%s\\n" "${ANSFLOW_TOKEN:6}"',
      'echo "uid=$(id -u)"',
    ].join('\n');
    const result = await run('print-token', [{ name: 'print', type: 'shell_command', config: { command }, credential: 'forge-token' }]);
    assert.equal(result.run.status, 'success', result.log);
    for (const form of [TOKEN, Buffer.from(TOKEN).toString('base64'), encodeURIComponent(TOKEN), JSON.stringify(TOKEN).slice(1, -1), TOKEN.slice(3, -3)])
      assert.ok(!result.log.includes(form), `${form} leaked:\n${result.log}`);
    for (const label of ['plain', 'b64', 'uri', 'split']) assert.match(result.log, new RegExp(`^${label}=\\*{6}$`, 'm'));
    assert.match(result.log, /^json="\*{6}"$/m);
    // With the sandbox on and the server root, the step is another user: the credential reached it anyway.
    if (h.worker.sandbox?.isolated && process.getuid?.() === 0) assert.doesNotMatch(result.log, /^uid=0$/m);
  });
});
