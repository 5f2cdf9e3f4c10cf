/** Which spawner runs inside a run's sandbox: spawner.pl by default (and with `perl`), Node when asked for, and nothing on a typo. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareSandbox, type SandboxState } from './sandbox-settings.js';

async function prepare(choice: string | undefined): Promise<SandboxState> {
  const root = mkdtempSync(join(tmpdir(), 'ansflow-sandbox-settings-test-'));
  const saved = process.env.ANSFLOW_SANDBOX_SPAWNER;
  if (choice === undefined) delete process.env.ANSFLOW_SANDBOX_SPAWNER;
  else process.env.ANSFLOW_SANDBOX_SPAWNER = choice;
  try {
    return await prepareSandbox({
      enabled: true,
      dataDir: join(root, 'data'),
      workspaceRoot: join(root, 'workspaces'),
      uid: 61000,
      defaults: { memoryBytes: null, processes: null, cpus: null, fileSizeBytes: null },
      tmpBytes: 64 * 1024 ** 2,
      extraHidden: [],
    });
  } finally {
    if (saved === undefined) delete process.env.ANSFLOW_SANDBOX_SPAWNER;
    else process.env.ANSFLOW_SANDBOX_SPAWNER = saved;
    rmSync(root, { recursive: true, force: true });
  }
}

test('spawner.pl by default where perl runs it; ANSFLOW_SANDBOX_SPAWNER=node chooses the Node spawner; another value refuses steps saying why', async (t) => {
  const unset = await prepare(undefined);
  if (unset.mode !== 'on' || !unset.available) {
    if (process.env.CI === 'true') assert.fail(`the sandbox is required under CI: ${JSON.stringify(unset)}`);
    t.skip('no sandbox on this machine');
    return;
  }
  assert.ok(existsSync('/usr/bin/perl'), 'perl is installed here (.ci/run installs it)');
  assert.equal(unset.settings.spawner.kind, 'perl');
  const node = await prepare('node');
  assert.deepEqual(node.mode === 'on' && node.available && node.settings.spawner, { kind: 'node', reason: 'ANSFLOW_SANDBOX_SPAWNER=node chooses it' });
  const perl = await prepare('perl');
  assert.equal(perl.mode === 'on' && perl.available && perl.settings.spawner.kind, 'perl');
  assert.deepEqual(await prepare('pearl'), { mode: 'on', available: false, reason: 'ANSFLOW_SANDBOX_SPAWNER="pearl" must be perl or node' });
});
