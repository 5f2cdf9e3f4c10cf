import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeEngineHarness, makeSpec, runWith, shell } from '../../test/support/engine-harness.js';
import { watchCommandLines } from '../../test/support/command-lines.js';
import type { ResolvedCredential } from '../domain/credentials.js';
import type { RunSpec } from './ports.js';

const TOKEN = 'tok/en+Ab c?d&e="x"\\y-0123';

const credentials = (...list: ResolvedCredential[]): RunSpec['credentials'] => Object.fromEntries(list.map((c) => [c.name, c]));
const token: ResolvedCredential = { name: 'api-token', secret: { kind: 'token', value: { token: TOKEN } } };

function homeOf(log: string): string {
  const home = /^HOME=(.*)$/m.exec(log)?.[1];
  assert.ok(home, log);
  return home;
}

test('a step naming a token credential gets ANSFLOW_TOKEN; whatever form it prints it in is masked, also split across writes', async () => {
  const h = makeEngineHarness();
  try {
    const node = JSON.stringify(process.execPath);
    const command = [
      'printf "plain: %s\\n" "$ANSFLOW_TOKEN"',
      'printf "b64: %s\\n" "$(printf %s "$ANSFLOW_TOKEN" | base64 -w0)"',
      'printf "b64 inside: %s\\n" "$(printf "Authorization: x:%s;" "$ANSFLOW_TOKEN" | base64 -w0)"',
      `printf "uri: %s\\n" "$(${node} -e 'process.stdout.write(encodeURIComponent(process.env.ANSFLOW_TOKEN))')"`,
      `printf "form: %s\\n" "$(${node} -e 'process.stdout.write(new URLSearchParams({t: process.env.ANSFLOW_TOKEN}).toString())')"`,
      `printf "json: %s\\n" "$(${node} -e 'process.stdout.write(JSON.stringify({t: process.env.ANSFLOW_TOKEN}))')"`,
      // Two writes with a pause between: the masker holds the first half back.
      'printf "split: %s" "${ANSFLOW_TOKEN:0:7}"; sleep 0.3; printf "%s\\n" "${ANSFLOW_TOKEN:7}"',
    ].join('\n');
    const spec = makeSpec([shell('print', command, { credential: 'api-token' })], { credentials: credentials(token) });
    const { outcome, stepLog } = await runWith(h, spec);
    const log = await stepLog(0);
    assert.equal(outcome.status, 'success', log);

    const forms = {
      plain: TOKEN,
      base64: Buffer.from(TOKEN).toString('base64'),
      inside: Buffer.from(`Authorization: x:${TOKEN};`).toString('base64'),
      uri: encodeURIComponent(TOKEN),
      form: new URLSearchParams({ t: TOKEN }).toString().slice(2),
      json: JSON.stringify(TOKEN).slice(1, -1),
    };
    for (const [name, form] of Object.entries(forms)) assert.ok(!log.includes(form), `${name} form leaked:\n${log}`);
    // Not even a recognisable piece of the secret: the middle of every form is gone.
    for (const form of [TOKEN, forms.base64, forms.uri, forms.json]) assert.ok(!log.includes(form.slice(4, -4)), `${form}\n${log}`);
    assert.match(log, /^plain: \*{6}$/m);
    assert.match(log, /^b64: \*{6}$/m);
    assert.match(log, /^b64 inside: .*\*{6}.*$/m);
    assert.match(log, /^uri: \*{6}$/m);
    assert.match(log, /^form: t=\*{6}$/m);
    assert.match(log, /^json: \{"t":"\*{6}"\}$/m);
    assert.match(log, /^split: \*{6}$/m);
  } finally {
    h.cleanup();
  }
});

test('only the step naming a credential gets its variables and files; they are gone when it ends', async () => {
  const h = makeEngineHarness();
  try {
    const file: ResolvedCredential = {
      name: 'kubeconfig',
      secret: { kind: 'secret_file', value: { content: 'apiVersion: v1\ntoken: file-secret-123\n', filename: 'config' } },
    };
    const userPass: ResolvedCredential = { name: 'registry', secret: { kind: 'username_password', value: { username: 'robot', password: 'pw-registry-456' } } };
    const vault: ResolvedCredential = { name: 'vault', secret: { kind: 'ansible_vault_password', value: { password: 'vault-pw-789', vault_id: 'prod' } } };
    const spec = makeSpec(
      [
        shell(
          'named',
          'echo "HOME=$HOME"; echo "FILE=$ANSFLOW_SECRET_FILE"; stat -c "%a %n" "$ANSFLOW_SECRET_FILE" "$(dirname "$ANSFLOW_SECRET_FILE")"; grep -c token "$ANSFLOW_SECRET_FILE"',
          {
            credential: 'kubeconfig',
          },
        ),
        shell('user', 'echo "user=$ANSFLOW_USERNAME"; [ "$ANSFLOW_PASSWORD" = pw-registry-456 ] && echo password-ok', { credential: 'registry' }),
        shell(
          'vault',
          'echo "$ANSIBLE_VAULT_IDENTITY_LIST"; [ "$ANSFLOW_VAULT_PASSWORD_FILE" = "$ANSIBLE_VAULT_PASSWORD_FILE" ] && cat "$ANSIBLE_VAULT_PASSWORD_FILE"',
          {
            credential: 'vault',
          },
        ),
        shell(
          'bystander',
          'env | grep -E "^(ANSFLOW_(TOKEN|PASSWORD|USERNAME|SECRET_FILE|VAULT|SSH)|ANSIBLE_VAULT|GIT_SSH)" || echo none; ls -A "$HOME/.ansflow/credentials" 2>/dev/null | wc -l',
        ),
      ],
      { credentials: credentials(file, userPass, vault, token) },
    );
    const { outcome, stepLog } = await runWith(h, spec);
    assert.equal(outcome.status, 'success', await stepLog(0));

    const named = await stepLog(0);
    const home = homeOf(named);
    const path = /^FILE=(.*)$/m.exec(named)?.[1] ?? '';
    assert.equal(path, join(home, '.ansflow', 'credentials', String(spec.steps[0]!.stepId), 'config'));
    assert.match(named, /^600 .*\/config$/m);
    assert.match(named, /^700 .*\/\d+$/m);
    assert.match(named, /^1$/m, 'the file holds the content');
    assert.ok(!existsSync(path), 'the file is removed when the step ends');
    assert.ok(!existsSync(join(home, '.ansflow', 'credentials', String(spec.steps[0]!.stepId))));

    const user = await stepLog(1);
    assert.match(user, /^user=robot$/m);
    assert.match(user, /^password-ok$/m);

    const vaultLog = await stepLog(2);
    assert.match(vaultLog, new RegExp(`^prod@${home}/\\.ansflow/credentials/${spec.steps[2]!.stepId}/vault-password$`, 'm'));
    assert.match(vaultLog, /^\*{6}$/m, 'the password is masked when printed');

    const bystander = await stepLog(3);
    assert.equal(bystander, 'none\n0\n');
  } finally {
    h.cleanup();
  }
});

test('credential values never appear on a command line of the step processes', async () => {
  const h = makeEngineHarness();
  const watch = watchCommandLines();
  try {
    const spec = makeSpec(
      [shell('use', 'sleep 0.2; [ -n "$ANSFLOW_TOKEN" ] && sh -c "sleep 0.2; test -n \\"\\$ANSFLOW_TOKEN\\"" && echo used', { credential: 'api-token' })],
      {
        credentials: credentials(token),
      },
    );
    const { outcome, stepLog } = await runWith(h, spec);
    assert.equal(outcome.status, 'success', await stepLog(0));
    const lines = watch.stop();
    assert.ok(
      lines.some((l) => l.includes('sleep 0.2')),
      'the watcher saw the step processes',
    );
    assert.deepEqual(
      lines.filter((l) => l.includes(TOKEN) || l.includes('tok/en')),
      [],
    );
  } finally {
    watch.stop();
    h.cleanup();
  }
});

test('a step naming a credential the run does not have fails saying which; the run fails, it does not crash', async () => {
  const h = makeEngineHarness();
  try {
    const spec = makeSpec([shell('ok', 'echo ok'), shell('needs', 'echo never', { credential: 'nope' }), shell('later', 'echo later')], {
      credentials: credentials(token),
    });
    const { outcome, reporter, stepLog } = await runWith(h, spec);
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.reason ?? '', /step "needs" failed: credential "nope" does not exist/);
    assert.equal(reporter.finished(spec.steps[1]!.stepId)?.status, 'failed');
    assert.match(await stepLog(1), /^error: credential "nope" does not exist/m);
    assert.equal(reporter.finalStatuses()[spec.steps[2]!.stepId], 'skipped');

    const withheld = makeSpec([shell('needs', 'echo never', { credential: 'api-token' })], { credentialsWithheld: 'pull request from a fork' });
    const second = await runWith(h, withheld);
    assert.equal(second.outcome.status, 'failed');
    assert.match(second.outcome.reason ?? '', /credential "api-token" is withheld from this run \(pull request from a fork\)/);
  } finally {
    h.cleanup();
  }
});

test('every credential of the run is masked in every step, also one that does not name it', async () => {
  const h = makeEngineHarness();
  try {
    // The value reaches the step some other way (here: the user pasted it into the command).
    const spec = makeSpec([shell('leaky', `echo "${'pw-registry-456'}"`)], {
      credentials: credentials({ name: 'registry', secret: { kind: 'username_password', value: { username: 'robot', password: 'pw-registry-456' } } }),
    });
    const { stepLog } = await runWith(h, spec);
    assert.equal(await stepLog(0), '******\n');
  } finally {
    h.cleanup();
  }
});

test('an ansible_playbook step naming a vault password credential opens vaulted variables', async () => {
  const h = makeEngineHarness();
  const tmp = mkdtempSync(join(tmpdir(), 'ansflow-vault-'));
  try {
    const passwordFile = join(tmp, 'pw');
    writeFileSync(passwordFile, 'vault-pw-e2e\n');
    writeFileSync(join(tmp, 'vars.yml'), 'greeting: opened-by-the-vault\n');
    execFileSync('ansible-vault', ['encrypt', '--vault-password-file', passwordFile, join(tmp, 'vars.yml')], { stdio: 'ignore' });
    const vaulted = readFileSync(join(tmp, 'vars.yml'), 'utf8');
    const playbook =
      '- hosts: localhost\n  connection: local\n  gather_facts: false\n  vars_files: [vars.yml]\n  tasks:\n    - debug: { msg: "{{ greeting }}" }\n';
    const vault: ResolvedCredential = { name: 'vault', secret: { kind: 'ansible_vault_password', value: { password: 'vault-pw-e2e' } } };
    const spec = makeSpec(
      [
        shell('write', `cat > vars.yml <<'EOF'\n${vaulted}EOF\ncat > site.yml <<'EOF'\n${playbook}EOF`),
        { name: 'play', type: 'ansible_playbook', config: { playbook: 'site.yml', inventory: 'localhost,' }, credential: 'vault' },
      ],
      { credentials: credentials(vault) },
    );
    const { outcome, stepLog } = await runWith(h, spec);
    const log = await stepLog(1);
    assert.equal(outcome.status, 'success', log);
    assert.match(log, /opened-by-the-vault/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    h.cleanup();
  }
});
