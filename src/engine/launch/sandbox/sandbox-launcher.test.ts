import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SandboxLauncher } from './sandbox-launcher.js';

test('when the sandbox cannot be set up, a run is refused with the reason and how to opt out', async () => {
  const launcher = new SandboxLauncher({ mode: 'on', available: false, reason: 'bubblewrap is not installed' }, { workspaceRoot: '/nowhere', warm: 1 });
  launcher.warmUp();
  await assert.rejects(
    launcher.openRun({ runId: 1, readOnlyPaths: [], stepLimits: [] }),
    /steps are not run: the sandbox cannot be set up \(bubblewrap is not installed\); ANSFLOW_SANDBOX=off/,
  );
});

test('a launch outside an open run sandbox is refused, never run unisolated', async () => {
  const launcher = new SandboxLauncher({ mode: 'on', available: false, reason: 'x' }, { workspaceRoot: '/nowhere', warm: 0 });
  await assert.rejects(launcher.launch({ file: 'true', args: [], cwd: '/', env: {} }), /must start inside its run's sandbox/);
  await assert.rejects(launcher.launch({ file: 'true', args: [], cwd: '/', env: {}, scope: { runId: 7 } }), /must start inside its run's sandbox/);
});
